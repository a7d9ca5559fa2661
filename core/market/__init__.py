"""Market data: one interface (``MarketFeed``) for tickers and OHLCV candles, two sources.

- ``SimulatedMarket``: deterministic, seeded, several symbols; the default for the demo, paper
  bots and tests; runs as fast as its injected clock moves.
- ``CcxtFeed``: a connected exchange through async ccxt.

``PriceHub`` shares prices per symbol between every bot on a feed; ``catalog`` keeps the
``exchanges`` / ``trading_pairs`` rows (precision, minimum size, fees) in step with the feed.

The names below are loaded on first use: importing ``core.market.simulated`` (the signal
receiver, the API key and demo commands do) must not import ccxt, which ``hub`` pulls in and
which takes about a second to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.market.feed import MarketFeed
    from core.market.hub import Backoff, MarketHubs, PriceHub
    from core.market.simulated import AcceleratedClock, SimulatedMarket
    from core.market.types import Candle, MarketInfo, Ticker, Timeframe

_HOMES = {
    "AcceleratedClock": "simulated",
    "Backoff": "hub",
    "Candle": "types",
    "MarketFeed": "feed",
    "MarketHubs": "hub",
    "MarketInfo": "types",
    "PriceHub": "hub",
    "SimulatedMarket": "simulated",
    "Ticker": "types",
    "Timeframe": "types",
}

__all__ = [
    "AcceleratedClock",
    "Backoff",
    "Candle",
    "MarketFeed",
    "MarketHubs",
    "MarketInfo",
    "PriceHub",
    "SimulatedMarket",
    "Ticker",
    "Timeframe",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
