"""``blockbotx exchanges list``: every qualifying ccxt exchange, read from ccxt itself (in
process through tests/cli_runner.py: a subprocess would import ccxt all over again)."""

import json

import ccxt.async_support as ccxt

from core.market.exchange_list import REQUIRED_CAPABILITIES
from tests.cli_runner import run


def test_exchanges_list_json_is_every_qualifying_ccxt_exchange() -> None:
    result = run(None, "exchanges", "list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = {e["id"]: e for e in json.loads(result.stdout)}
    qualifying = {
        exchange_id
        for exchange_id in ccxt.exchanges
        if (has := getattr(ccxt, exchange_id)().has).get("spot")
        and all(has.get(c) for c in REQUIRED_CAPABILITIES)
    }
    assert set(listed) == qualifying and len(listed) > 50
    assert {"binance", "okx", "bybit", "kraken", "coinbase"} <= set(listed)
    okx, kraken = listed["okx"], listed["kraken"]
    assert (okx["name"], okx["sandbox"], okx["websocket"]) == ("OKX", True, True)
    assert okx["credentials"] == ["apiKey", "secret", "password"] and okx["connectable"]
    assert (kraken["name"], kraken["sandbox"]) == ("Kraken", False)
    assert "1h" in kraken["timeframes"]
    # Exchanges that sign with a wallet key list for their public prices (paper) only.
    assert not listed["hyperliquid"]["connectable"]


def test_exchanges_list_table_and_search() -> None:
    result = run(None, "exchanges", "list", "--search", "kraken")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[:2] == ["1", "exchange"] and "Kraken" in result.stdout
    assert "Binance" not in result.stdout
    nothing = run(None, "exchanges", "list", "--json", "--search", "no-such-exchange")
    assert nothing.exit_code == 0 and json.loads(nothing.stdout) == []
