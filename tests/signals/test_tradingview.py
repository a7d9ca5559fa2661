"""TradingView alerts over real HTTP, sent exactly as TradingView sends them (``text/plain``, no
custom headers): tickers mapped to pairs, the token in the path or the body, refusals that store
nothing, and a following bot acting on an alert once through the engine's real cycle."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.signals import Signal, SignalExecution
from core.db.models.trading import Exchange, Trade, TradingPair
from core.errors import InvalidInput
from core.services import signals as service
from core.services.actor import Actor
from core.signals.alert_receiver import create_receiver_app
from core.signals.tradingview import MESSAGE_TEMPLATE
from tests.engine.support import world
from tests.signals.conftest import snapshot, start_app
from tests.signals.test_cli import _run


@dataclass
class TradingView:
    """Posts the way TradingView's webhook does: a text/plain body and nothing else."""

    base: str
    http: aiohttp.ClientSession

    async def post(self, path: str, body: bytes | str) -> tuple[int, dict[str, Any]]:
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        async with self.http.post(self.base + path, data=data, headers=headers) as response:
            return response.status, await response.json()


async def _serve(db: Database, clock: FrozenClock) -> AsyncIterator[TradingView]:
    runner, base = await start_app(create_receiver_app(db, clock=clock))
    async with aiohttp.ClientSession() as http:
        yield TradingView(base, http)
    await runner.cleanup()


@pytest.fixture
async def tv(db: Database, clock: FrozenClock) -> AsyncIterator[TradingView]:
    async for sender in _serve(db, clock):
        yield sender


@pytest.fixture
async def alerts(db: Database, alice: Actor, clock: FrozenClock) -> service.ProviderWithKey:
    return await service.create_provider(db, alice, name="tv", type="tradingview", clock=clock)


def alert(ticker: str = "BINANCE:BTCUSDT", action: str = "buy", **extra: Any) -> str:
    return json.dumps({"ticker": ticker, "action": action, **extra})


async def _signals(db: Database) -> list[Signal]:
    async with db.session() as s:
        return list(await s.scalars(select(Signal).order_by(Signal.created_at, Signal.id)))


async def test_an_alert_as_tradingview_sends_it_is_stored(
    db: Database, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    path = alerts.secret_path
    assert (
        path == f"/tv/{alerts.info.id}/{alerts.key}" and alerts.info.url == f"/tv/{alerts.info.id}"
    )
    # what TradingView makes of the message template for a strategy order
    filled = (
        MESSAGE_TEMPLATE.replace("{{ticker}}", "BINANCE:BTCUSDT")
        .replace("{{strategy.order.action}}", "buy")
        .replace("{{close}}", "65000.123456789")
        .replace("{{timenow}}", "2026-01-01T11:59:30Z")
    )
    status, answer = await tv.post(path, filled)
    assert status == 201, answer
    (row,) = await _signals(db)
    assert row.id == answer["signal_id"] and row.provider_id == alerts.info.id
    assert (row.symbol, row.action, row.price) == ("BTC/USDT", "BUY", Decimal("65000.123456789"))
    assert row.created_at.isoformat() == "2026-01-01T11:59:30+00:00"
    assert row.metadata_ == {"source": "tradingview", "ticker": "BINANCE:BTCUSDT"}


async def test_ticker_forms_map_to_pairs_of_the_catalog(
    db: Database, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    async with db.sessions.begin() as s:
        for name, symbol in (("kraken", "ADA/EUR"), ("binance", "XYZ/USDC"), ("okx", "XY/ZUSDC")):
            exchange = Exchange(
                name=name, api_url=f"https://{name}.test", supported_pairs=[symbol], fees={}
            )
            s.add(exchange)
            await s.flush()
            base, quote = symbol.split("/")
            s.add(
                TradingPair(
                    exchange_id=exchange.id,
                    symbol=symbol,
                    base=base,
                    quote=quote,
                    min_order_size=Decimal("0.01"),
                    price_precision=2,
                    quantity_precision=2,
                )
            )
    sent = {
        "BTCUSDT": "BTC/USDT",  # the simulated market's pairs when the catalog has none
        "BINANCE:ETHUSDT": "ETH/USDT",
        "btc/usdt": "BTC/USDT",
        "KRAKEN:ADAEUR": "ADA/EUR",
        "ADAEUR": "ADA/EUR",
        "BINANCE:XYZUSDC": "XYZ/USDC",  # that exchange's pair settles a name two pairs share
    }
    for number, ticker in enumerate(sent):
        status, answer = await tv.post(alerts.secret_path or "", alert(ticker, time=number))
        assert status == 201, (ticker, answer)
    assert [r.symbol for r in await _signals(db)] == list(sent.values())
    before = await snapshot(db)
    refused = {
        "XYZUSDC": "could be XY/ZUSDC or XYZ/USDC",
        "NOPEUSDT": "no known pair is NOPEUSDT",
        "BTC-USDT": "is not like BTCUSDT",
        "BTC/": "is not a trading pair",
    }
    for ticker, message in refused.items():
        status, answer = await tv.post(alerts.secret_path or "", alert(ticker))
        assert (status, answer["error"]) == (422, "invalid_signal"), ticker
        assert message in answer["message"], answer
    assert await snapshot(db) == before


async def test_the_passphrase_in_the_body_is_the_alternative_to_the_token_in_the_path(
    db: Database, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    status, answer = await tv.post(
        alerts.info.url or "", alert(action="SELL", passphrase=alerts.key, interval="15")
    )
    assert status == 201, answer
    (row,) = await _signals(db)
    assert row.action == "SELL" and "passphrase" not in json.dumps(row.metadata_)


async def test_a_wrong_token_is_404_and_stores_nothing(
    db: Database, alice: Actor, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    other = await service.create_provider(db, alice, name="tv2", type="tradingview")
    hook = await service.create_provider(db, alice, name="hook", type="webhook")
    before = await snapshot(db)
    wrong = [
        (f"/tv/{alerts.info.id}/bbxtv_wrong", alert()),
        (f"/tv/{alerts.info.id}/{other.key}", alert()),  # another provider's token
        (f"/tv/{alerts.info.id}", alert()),  # neither token nor passphrase
        (f"/tv/{alerts.info.id}", alert(passphrase="guess")),
        (f"/tv/{alerts.info.id}", "not json"),
        (f"/tv/{hook.info.id}/{hook.key}", alert()),  # a webhook provider is not an alert one
        (f"/tv/nosuchprovider/{alerts.key}", alert()),
        (f"/tv/NOT-AN-ID/{alerts.key}", alert()),
    ]
    for path, body in wrong:
        status, answer = await tv.post(path, body)
        assert (status, answer["error"]) == (404, "unknown_provider"), path
    assert await snapshot(db) == before


async def test_replays_bad_bodies_and_a_disabled_provider_are_refused(
    db: Database, alice: Actor, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    path = alerts.secret_path or ""
    assert (await tv.post(path, alert(time="2026-01-05T11:00:00Z")))[0] == 201
    before = await snapshot(db)
    cases = [
        (alert(time="2026-01-05T11:00:00Z"), 409, "replayed"),
        ("{not json", 400, "invalid_json"),
        ("[1]", 422, "invalid_signal"),
        (json.dumps({"ticker": "BTCUSDT"}), 422, "invalid_signal"),
        (alert(action="hold"), 422, "invalid_signal"),
        (alert(price=-1), 422, "invalid_signal"),
        (alert(confidence=101), 422, "invalid_signal"),
        (alert(time="yesterday"), 422, "invalid_signal"),
    ]
    for body, status, code in cases:
        got, answer = await tv.post(path, body)
        assert (got, answer["error"]) == (status, code), body
        assert answer["message"]
    assert "action: must be buy or sell" in (await tv.post(path, alert(action="x")))[1]["message"]
    await service.set_provider_active(db, alice, alerts.info.id, False)
    before = await snapshot(db)
    got, answer = await tv.post(path, alert(time=1))
    assert (got, answer["error"]) == (403, "provider_disabled")
    assert await snapshot(db) == before


async def test_rotating_the_token_retires_the_old_path(
    db: Database, alice: Actor, tv: TradingView, alerts: service.ProviderWithKey
) -> None:
    rotated = await service.rotate_provider_key(db, alice, alerts.info.id)
    assert rotated.key and rotated.key != alerts.key
    assert (await tv.post(alerts.secret_path or "", alert()))[0] == 404
    assert (await tv.post(rotated.secret_path or "", alert()))[0] == 201
    with pytest.raises(InvalidInput, match="generated"):
        await service.rotate_provider_key(db, alice, alerts.info.id, "mine")


async def test_a_following_bot_acts_on_an_alert_once(db: Database) -> None:
    w = await world(db)
    alerts = await service.create_provider(
        db, w.actor, name="TradingView", type="tradingview", clock=w.clock
    )
    bot_id = await w.bot(
        "signal",
        {
            "symbol": "BTC/USDT",
            "timeframe": "1m",
            "source": "provider",
            "provider_id": alerts.info.id,
        },
        {"max_position_size": "500"},
    )
    w.pin("BTC/USDT", "100")
    w.clock.advance(seconds=1)
    async for sender in _serve(db, w.clock):
        body = alert("BINANCE:BTCUSDT", "buy", price=100, time=w.clock.now().isoformat())
        status, answer = await sender.post(alerts.secret_path or "", body)
        assert status == 201, answer
        runner = w.runner()
        w.clock.advance(seconds=60)
        await w.step(runner)
        await w.step(runner)
        assert (await sender.post(alerts.secret_path or "", body))[0] == 409
        await w.step(runner)
    async with db.session() as s:
        done = list(
            await s.scalars(select(SignalExecution).where(SignalExecution.bot_id == bot_id))
        )
        trades = list(await s.scalars(select(Trade).where(Trade.bot_id == bot_id)))
        stored = await s.get(Signal, answer["signal_id"])
    assert [(e.signal_id, e.status) for e in done] == [(answer["signal_id"], "success")]
    assert len(trades) == 1 and trades[0].side == "BUY" and done[0].trade_id == trades[0].id
    assert stored is not None and stored.processed


async def test_cli_adds_a_tradingview_provider_as_json(
    db: Database, migrated_url: str, alice: Actor, tv: TradingView
) -> None:
    code, out, err = await _run(
        migrated_url, "provider", "add", "TV desk", "--type", "tradingview",
        "--user", "alice@example.com", "--json",
    )  # fmt: skip
    assert code == 0, err
    created = json.loads(out)
    assert created["id"] and created["type"] == "tradingview"
    assert created["webhook_path"] == f"/tv/{created['id']}/{created['passphrase']}"
    assert "{{strategy.order.action}}" in created["message_template"]
    (info,) = await service.list_providers(db, alice)
    assert info.id == created["id"] and info.owner_id == alice.user_id
    assert (await tv.post(created["webhook_path"], alert()))[0] == 201
    code, out, err = await _run(
        migrated_url, "provider", "add", "bad", "--type", "tradingview", "--user",
        "alice@example.com", "--json", "--config", '{"chat_ids": [1]}',
    )  # fmt: skip
    assert (
        code == 1
        and out == ""
        and "Chat ids is an unknown setting" in err
        and "Traceback" not in err
    )
