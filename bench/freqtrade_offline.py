"""Freqtrade's ``backtesting`` on the bench's candles, offline, for bench_backtest.py.

Freqtrade fetches the exchange's market list when it starts and stops without a network; the
run script hands it a stored Binance BTC/USDT spot market (ccxt's unified form) in place of
``load_markets``. Its strategy has the bench's rules: the fast SMA crossing above the slow one
enters at the next open, crossing below exits at the next open; no ROI, no stop-loss in reach,
the whole wallet per trade, the same fee. The candles go into its data directory (feather)
before the timed run; ``--cache none`` keeps it from reusing an earlier result. The run script
prints every trade's entry and exit candle so the bench can compare them with ours.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

MARKET = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "baseId": "BTC",
    "quoteId": "USDT",
    "settle": None,
    "settleId": None,
    "type": "spot",
    "spot": True,
    "margin": False,
    "swap": False,
    "future": False,
    "option": False,
    "contract": False,
    "active": True,
    "linear": None,
    "inverse": None,
    "contractSize": None,
    "expiry": None,
    "expiryDatetime": None,
    "strike": None,
    "optionType": None,
    "taker": 0.001,
    "maker": 0.001,
    "percentage": True,
    "tierBased": False,
    "precision": {"amount": 1e-08, "price": 0.01, "base": 1e-08, "quote": 1e-08},
    # the bench's prices are ~100 and its wallet 1e9: no amount or cost ceiling gets in the way
    "limits": {
        "leverage": {"min": None, "max": None},
        "amount": {"min": 1e-08, "max": None},
        "price": {"min": 0.01, "max": None},
        "cost": {"min": 5.0, "max": None},
        "market": {"min": None, "max": None},
    },
    "info": {},
}

STRATEGY = """
import talib
from freqtrade.strategy import IStrategy


class BenchSmaCross(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {{"0": 1000000}}  # never
    stoploss = -0.99
    use_exit_signal = True
    startup_candle_count = 0

    def populate_indicators(self, df, metadata):
        # TA-Lib's SMA, as ours: pandas' rolling mean rounds differently, and on near-ties
        # a crossing can then fall one candle apart
        df["fast"] = talib.SMA(df["close"].to_numpy(), timeperiod={fast})
        df["slow"] = talib.SMA(df["close"].to_numpy(), timeperiod={slow})
        return df

    def populate_entry_trend(self, df, metadata):
        above = df["fast"] > df["slow"]
        df.loc[above & (df["fast"].shift(1) <= df["slow"].shift(1)), "enter_long"] = 1
        return df

    def populate_exit_trend(self, df, metadata):
        below = df["fast"] < df["slow"]
        df.loc[below & (df["fast"].shift(1) >= df["slow"].shift(1)), "exit_long"] = 1
        return df
"""

DATA_SCRIPT = """
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
df["date"] = pd.to_datetime(df["date"], unit="ms", utc=True)
df[["date", "open", "high", "low", "close", "volume"]].to_feather(sys.argv[2])
"""

RUN_SCRIPT = """
import json, sys, time
from freqtrade.exchange.exchange import Exchange
from freqtrade.optimize.backtesting import Backtesting

MARKETS = {"BTC/USDT": json.loads(sys.argv[1])}


def stored_markets(self, *args, **kwargs):  # in place of ccxt's load_markets (network)
    self._markets = MARKETS
    for api in (self._api, self._api_async):
        api.set_markets(list(MARKETS.values()))
    self._last_markets_refresh = int(time.time() * 1000)
    return MARKETS


Exchange.reload_markets = stored_markets
Exchange._load_async_markets = stored_markets
trades = []
original = Backtesting.backtest


def backtest(self, *args, **kwargs):
    out = original(self, *args, **kwargs)
    trades.append(out["results"])
    return out


Backtesting.backtest = backtest
from freqtrade.main import main

try:
    main(sys.argv[2:])
except SystemExit as exc:
    if exc.code:
        raise
ms = lambda column: [int(t.timestamp() * 1000) for t in column]
result = trades[-1]
print("TRADES " + json.dumps([ms(result["open_date"]), ms(result["close_date"])]))
"""


def prepare(
    python: str, csv: Path, work: Path, *, fast: int, slow: int, fee: float, cash: int
) -> list[str]:
    """Write Freqtrade's user data (config, strategy, the candles in its format) under
    ``work``; the arguments of the timed run."""
    data = work / "data" / "binance"
    strategies = work / "strategies"
    data.mkdir(parents=True)
    strategies.mkdir()
    (strategies / "bench_sma_cross.py").write_text(STRATEGY.format(fast=fast, slow=slow))
    subprocess.run(
        [python, "-c", DATA_SCRIPT, str(csv), str(data / "BTC_USDT-1h.feather")], check=True
    )
    config = {
        "max_open_trades": 1,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 1.0,
        "dry_run": True,
        "dry_run_wallet": cash,
        "timeframe": "1h",
        "trading_mode": "spot",
        "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"], "pair_blacklist": []},
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same", "use_order_book": False, "order_book_top": 1},
        "exit_pricing": {"price_side": "same", "use_order_book": False, "order_book_top": 1},
        "dataformat_ohlcv": "feather",
        "user_data_dir": str(work),
        "datadir": str(data),
        "strategy": "BenchSmaCross",
        "strategy_path": str(strategies),
        "bot_name": "bench",
        "internals": {},
    }
    (work / "config.json").write_text(json.dumps(config, indent=2))
    market = json.dumps({**MARKET, "taker": fee, "maker": fee})
    return [
        python, "-c", RUN_SCRIPT, market,
        "backtesting", "--config", str(work / "config.json"), "--cache", "none",
        "--fee", str(fee), "--export", "none",
    ]  # fmt: skip


def compare(stdout: str, ours: list[tuple[int, int]]) -> str:
    """Freqtrade's trades (from the run's stdout) against ours: (entry ms, exit ms) pairs."""
    line = next(x for x in stdout.splitlines() if x.startswith("TRADES "))
    opens, closes = json.loads(line.removeprefix("TRADES "))
    same_entries = len(set(opens) & {entry for entry, _ in ours})
    same_exits = len(set(closes) & {exit_ for _, exit_ in ours})
    return (
        f"{len(opens)} trades (ours {len(ours)}); same candles: {same_entries} entries, "
        f"{same_exits} exits"
    )
