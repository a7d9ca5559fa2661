"""What every part of the engine shares in one process: the database, markets, clock, settings,
the candle cache, parsed bot settings and open venues."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.engine.candles import CandleCache
from core.engine.ids import fast_id
from core.engine.settings import EngineSettings
from core.engine.venues import Markets, Venue, open_venue
from core.ledger.book import Ledger
from core.ledger.orders import OrderDesk
from core.ledger.wallets import WalletInfo
from core.market.catalog import Pair
from core.strategies.config import ConfigModel
from core.strategies.registry import validate_bot_config, validate_risk_settings
from core.strategies.risk import RiskSettings

log = logging.getLogger("core.engine")


@dataclass
class Parsed:
    """A bot's validated settings (and strategy objects), rebuilt when the bot row changes."""

    updated_at: datetime
    config: ConfigModel
    risk: RiskSettings
    raw_config: dict[str, Any]
    raw_risk: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    paper_market: str | None = None
    """The exchange whose public prices the bot paper-trades on (None: the simulated market)."""


@dataclass
class EngineContext:
    db: Database
    markets: Markets
    settings: EngineSettings
    owner: str
    clock: Clock = SYSTEM_CLOCK
    candles: CandleCache = field(default_factory=CandleCache)
    desk: OrderDesk = field(init=False)
    fees: dict[str, dict[str, Decimal]] = field(default_factory=dict, repr=False)
    _parsed: dict[str, Parsed] = field(default_factory=dict, repr=False)
    _venues: dict[tuple[str, bool], Venue] = field(default_factory=dict, repr=False)
    _stored: dict[str, dict[str, Pair]] = field(default_factory=dict, repr=False)
    """Each feed's pairs as stored, shared by its venues (``Venue.stored``)."""

    def __post_init__(self) -> None:
        self.desk = OrderDesk(ledger=Ledger(new_id=fast_id), clock=self.clock, new_id=fast_id)
        if self.candles.store is None:
            self.candles.store = self.db  # exchange candles are kept in historical_datasets

    def parsed(
        self,
        bot_id: str,
        bot_type: str,
        updated_at: datetime,
        config: Any,
        risk: Any,
        paper_market: str | None = None,
    ) -> Parsed:
        """The bot's validated config and risk settings (InvalidInput if they no longer are)."""
        cached = self._parsed.get(bot_id)
        if cached is None or cached.updated_at != updated_at:
            cached = Parsed(
                updated_at,
                validate_bot_config(bot_type, config),
                validate_risk_settings(risk),
                config or {},
                risk or {},
                paper_market=paper_market,
            )
            self._parsed[bot_id] = cached
        return cached

    def known(self, bot_id: str, updated_at: datetime) -> Parsed | None:
        """The parsed settings of a bot whose row hasn't changed since, if any."""
        cached = self._parsed.get(bot_id)
        return cached if cached is not None and cached.updated_at == updated_at else None

    async def venue(
        self,
        session: AsyncSession,
        bot_id: str,
        user_id: str,
        paper: bool,
        *,
        wallet: WalletInfo | None = None,
    ) -> Venue:
        """The bot's venue in that mode, opened once; ``wallet``: the bot's wallet of that mode
        when the caller read it already (the batched exits do), so it isn't looked up again."""
        key = (bot_id, paper)
        venue = self._venues.get(key)
        if venue is None:
            venue = await open_venue(
                session, self.markets, bot_id=bot_id, owner_id=user_id, paper=paper, wallet=wallet
            )
            venue.stored = self._stored.setdefault(venue.hub.name, {})
            self._venues[key] = venue
        return venue

    async def close(self) -> None:
        for venue in self._venues.values():
            await venue.close()
        self._venues.clear()
        self._stored.clear()
