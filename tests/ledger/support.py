"""Shared set-up for the market, broker and ledger tests: users, bots, wallets, a seeded market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.brokers.paper import PaperBroker
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot, BotBalance
from core.ledger.wallets import WalletInfo, open_wallet
from core.market.catalog import Pair, sync_markets
from core.market.hub import PriceHub
from core.market.simulated import SimulatedMarket
from core.services.actor import Actor
from tests.service_users import add_user

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SEED = 7


@dataclass
class PaperWorld:
    db: Database
    clock: FrozenClock
    market: SimulatedMarket
    hub: PriceHub
    pairs: dict[str, Pair]
    actor: Actor
    bot_id: str
    wallet: WalletInfo

    def broker(self) -> PaperBroker:
        return PaperBroker(self.hub, clock=self.clock)


async def add_bot(db: Database, user_id: str, name: str = "Grid bot", *, paper: bool = True) -> str:
    async with db.sessions.begin() as session:
        bot = Bot(
            user_id=user_id, name=name, type="ai", config={}, risk_settings={}, paper_trading=paper
        )
        session.add(bot)
        await session.flush()
        return bot.id


async def paper_world(
    db: Database, *, balance: Decimal = Decimal("10000"), email: str = "trader@example.com"
) -> PaperWorld:
    clock = FrozenClock(START)
    market = SimulatedMarket(seed=SEED, clock=clock)
    hub = PriceHub(market, clock=clock)
    actor = await add_user(db, email)
    bot_id = await add_bot(db, actor.user_id)
    async with db.sessions.begin() as session:
        pairs = await sync_markets(session, market)
        wallet = await open_wallet(session, bot_id, initial_balance=balance)
    return PaperWorld(db, clock, market, hub, pairs, actor, bot_id, wallet)


async def wallet_balances(db: Database, wallet_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    async with db.session() as session:
        rows = await session.scalars(select(BotBalance).where(BotBalance.wallet_id == wallet_id))
        return {r.asset: (r.amount, r.locked) for r in rows}


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
