"""Where a bot trades: its wallet, a broker and the prices of that market.

A paper bot trades in its simulation wallet through the paper broker, priced by the simulated
market's hub (``PAPER_FEED``), or by an exchange's public hub when the wallet names a
``paper_market`` (real prices and candles, no keys). A live bot trades in its live wallet through the ccxt broker of its
exchange connection (keys decrypted only to build the client, for the bot's owner), priced by a
shared public hub of that exchange. Pairs are loaded from the catalog, and stored on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.connections import open_exchange
from core.brokers.paper import PaperBroker, SlippageModel
from core.brokers.types import Broker
from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.trading import Exchange
from core.errors import Conflict
from core.ledger.wallets import LIVE, SIMULATION, WalletInfo, bot_wallet
from core.market.catalog import Pair, load_pair, sync_markets
from core.market.ccxt_client import ExchangeFactory
from core.market.errors import UnknownSymbol
from core.market.fee_tiers import FeeRates, load_fee_tier, with_fee_tier
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.market.stream import TickerStream, pro_client, streams_tickers

PAPER_FEED = "simulated"


@dataclass
class Markets:
    """The price hubs and exchange clients a process trades with (one hub per feed)."""

    hubs: MarketHubs
    exchanges: ExchangeFactory = field(default_factory=ExchangeFactory)
    clock: Clock = SYSTEM_CLOCK
    slippage: SlippageModel = field(default_factory=SlippageModel)
    stream_prices: bool = False
    """Stream exchange prices over websockets where ccxt.pro can (the engine's markets do)."""
    ws_origin: str | None = None
    """Send the price streams to another server (tests' fake exchanges)."""
    stale_after: timedelta = timedelta(seconds=30)
    """A price older than this is stale (the engine sets it from its settings)."""

    @classmethod
    def simulated(
        cls, *, clock: Clock = SYSTEM_CLOCK, seed: int | None = None, stream_prices: bool = False
    ) -> Markets:
        market = SimulatedMarket(clock=clock) if seed is None else SimulatedMarket(seed, clock)
        hubs = MarketHubs()
        hubs.add(PriceHub(market, clock=clock, poll_interval=1.0))
        return cls(hubs=hubs, clock=clock, stream_prices=stream_prices)

    def paper_hub(self) -> PriceHub:
        hub = self.hubs.get(PAPER_FEED)
        if hub is None:
            raise Conflict("No simulated market is running for paper bots.")
        return hub

    def paper_hub_of(self, paper_market: str | None) -> PriceHub:
        """A simulation wallet's prices: an exchange's public data, or the simulated market."""
        if paper_market is None:
            return self.paper_hub()
        return self.public_hub(paper_market, paper_market, False)

    def public_hub(self, exchange: str, feed_name: str, testnet: bool) -> PriceHub:
        """The shared public price hub of an exchange (no keys: prices are public)."""
        return self.hubs.public(
            self.exchanges,
            exchange,
            feed_name=feed_name,
            testnet=testnet,
            clock=self.clock,
            stale_after=self.stale_after,
            stream=self._stream if self.stream_prices else None,
        )

    def _stream(self, hub: PriceHub, client: Any) -> TickerStream | None:
        """A websocket price stream for an exchange's hub, where ccxt.pro offers one."""
        if not streams_tickers(client.id):
            return None
        return TickerStream(hub, pro_client(client, ws_origin=self.ws_origin))

    def offset_hub(self, offset_percent: Decimal, spread_percent: Decimal = Decimal(0)) -> PriceHub:
        """The simulated market moved by ``offset_percent``, its spread wandering by
        ``spread_percent`` around it (an arbitrage bot's market B)."""
        from core.engine.offset_feed import OffsetFeed, offset_feed_name

        name = offset_feed_name(PAPER_FEED, offset_percent, spread_percent)
        hub = self.hubs.get(name)
        if hub is None:
            feed = OffsetFeed(self.paper_hub().feed, offset_percent, spread_percent)
            hub = self.hubs.add(PriceHub(feed, clock=self.clock, poll_interval=1.0))
        return hub


@dataclass
class Venue:
    wallet: WalletInfo
    broker: Broker
    hub: PriceHub
    _pairs: dict[str, Pair] = field(default_factory=dict, repr=False)
    stored: dict[str, Pair] = field(default_factory=dict, repr=False)
    """The pairs as stored (before a fee tier): ``EngineContext`` shares one per feed among
    its venues, so a bot's first order doesn't look its pair up again."""
    fees: FeeRates | None = None
    """The owner's fee tier on the exchange a paper wallet trades on (None: the market's), as
    last read by ``pair``."""

    @property
    def feed_name(self) -> str:
        return self.hub.name

    @property
    def is_paper(self) -> bool:
        return self.wallet.is_paper

    async def pair(self, session: AsyncSession, symbol: str) -> Pair:
        if self.wallet.paper_market is not None:
            # The owner's fee tier is read again for every order (one lookup by its unique key,
            # only for paper on an exchange's prices): a tier set or cleared in the dashboard
            # applies to the next fill, not when the engine next opens the venue.
            fees = await load_fee_tier(session, self.wallet.user_id, self.wallet.paper_market)
            if fees != self.fees:
                self.fees = fees
                self._pairs.clear()
        pair = self._pairs.get(symbol)
        if pair is None:
            pair = self.stored.get(symbol)
            if pair is None:
                pair = self.stored[symbol] = await load_or_sync_pair(session, self.hub, symbol)
            pair = self._pairs[symbol] = with_fee_tier(pair, self.fees)
        return pair

    async def close(self) -> None:
        if isinstance(self.broker, CcxtBroker):
            await self.broker.exchange.close()


async def load_or_sync_pair(session: AsyncSession, hub: PriceHub, symbol: str) -> Pair:
    """The stored pair; a feed never seen before has its markets stored first, committed on
    their own (live orders are written in other transactions, which must see the pair)."""
    try:
        return await load_pair(session, hub.name, symbol)
    except UnknownSymbol:
        known = await session.scalar(select(Exchange.id).where(Exchange.name == hub.name))
        if known:
            raise
    sessions = async_sessionmaker(session.bind, expire_on_commit=False)
    async with sessions() as own, own.begin():
        await sync_markets(own, hub.feed)
    return await load_pair(session, hub.name, symbol)


async def open_venue(
    session: AsyncSession,
    markets: Markets,
    *,
    bot_id: str,
    owner_id: str,
    paper: bool,
    wallet: WalletInfo | None = None,
) -> Venue:
    """The venue of a bot's current mode (or of the given wallet)."""
    if wallet is None:
        wallet = await bot_wallet(session, bot_id, SIMULATION if paper else LIVE)
        if wallet is None:
            raise Conflict(
                f"The bot has no {'simulation' if paper else 'live'} wallet; create it again."
            )
    if wallet.is_paper:
        hub = markets.paper_hub_of(wallet.paper_market)
        paper_broker = PaperBroker(
            hub, clock=markets.clock, slippage=markets.slippage, venue="Paper"
        )
        return Venue(wallet, paper_broker, hub)  # its fee tier: read by ``pair``
    if wallet.exchange_connection_id is None:
        raise Conflict("The bot's exchange connection was removed; it can't trade live.")
    info, exchange = await open_exchange(
        session,
        wallet.exchange_connection_id,
        owner_id=owner_id,
        factory=markets.exchanges,
        clock=markets.clock,
        trade=True,
    )
    broker = CcxtBroker(exchange, venue=info.venue, clock=markets.clock)
    hub = markets.public_hub(info.exchange, info.feed_name, info.is_testnet)
    return Venue(wallet, broker, hub)


def sellable(pair: Pair, held: Decimal) -> Decimal:
    """What of ``held`` can be sold: cut down to the pair's quantity step."""
    return pair.info.round_quantity(held)
