"""Market data: one interface (``MarketFeed``) for tickers and OHLCV candles, two sources.

- ``SimulatedMarket``: deterministic, seeded, several symbols; the default for the demo, paper
  bots and tests; runs as fast as its injected clock moves.
- ``CcxtFeed``: a connected exchange through async ccxt.

``PriceHub`` shares prices per symbol between every bot on a feed; ``catalog`` keeps the
``exchanges`` / ``trading_pairs`` rows (precision, minimum size, fees) in step with the feed.
"""

from core.market.feed import MarketFeed
from core.market.hub import Backoff, MarketHubs, PriceHub
from core.market.simulated import AcceleratedClock, SimulatedMarket
from core.market.types import Candle, MarketInfo, Ticker, Timeframe

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
