"""Time-weighted returns: funding a bot, deleting one or moving money on an exchange is a cash
flow, never profit; the return chains the pieces between flows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import BotBalance, BotWallet, CashFlow
from core.ledger.returns import time_weighted
from core.ledger.snapshots import snapshot_portfolio
from core.ledger.wallets import sync_balances
from core.services import analytics
from core.services.actor import Actor
from core.services.bots import BotSpec, create_bot, delete_bot
from tests.service_users import add_user

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_pieces_between_flows_multiply() -> None:
    hour = timedelta(hours=1)
    points = [
        (T0, D(1000)),
        (T0 + hour, D(1100)),
        (T0 + 2 * hour, D(2100)),
        (T0 + 3 * hour, D(2205)),
    ]
    # +10 % on 1,000, then 1,000 paid in, then +5 % on 2,100: 1.1 x 1.05 - 1 = 15.5 %.
    assert time_weighted(points, [(T0 + 2 * hour, D(1000))]) == D("15.5")
    assert time_weighted(points, []) == D("120.5")  # without the flow it looks like profit
    # A flow before the first point or after the last is outside the period.
    assert time_weighted(points[:2], [(T0, D(5)), (T0 + 2 * hour, D(5))]) == D("10")
    assert time_weighted([(T0, D(0)), (T0 + hour, D(500))], [(T0 + hour, D(500))]) == 0


async def _grow(db: Database, bot_id: str, by: Decimal) -> None:
    """Profit, as far as the valuation goes: more quote cash in the bot's wallet."""
    async with db.sessions.begin() as s:
        wallet_id = await s.scalar(select(BotWallet.id).where(BotWallet.bot_id == bot_id))
        await s.execute(
            update(BotBalance)
            .where(BotBalance.wallet_id == wallet_id)
            .values(amount=BotBalance.amount + by)
        )


async def _snapshot(db: Database, actor: Actor, clock: FrozenClock) -> None:
    async with db.sessions.begin() as s:
        await snapshot_portfolio(s, actor.user_id, now=clock.now())


async def _portfolio(db: Database, actor: Actor, clock: FrozenClock) -> dict[str, object]:
    async with db.session() as s:
        data = await analytics.compute(s, actor.user_id, "portfolio", "7d", clock.now())
    return {k: D(v) if isinstance(v, str) else v for k, v in data.items()}


async def test_funding_and_deleting_a_bot_leave_the_return_unchanged(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    clock = FrozenClock(T0)
    async with db.sessions.begin() as s:
        first = await create_bot(s, ann, BotSpec(name="First", type="dca"), clock=clock)
    clock.advance(minutes=1)
    await _snapshot(db, ann, clock)
    clock.advance(hours=1)
    await _grow(db, first.id, D(500))
    await _snapshot(db, ann, clock)
    clock.advance(hours=1)
    before = await _portfolio(db, ann, clock)
    assert (before["change_percent"], before["change"], before["net_flows"]) == (D(5), 500, 0)

    async with db.sessions.begin() as s:  # fund a second bot with 10,000
        second = await create_bot(
            s, ann, BotSpec(name="Second", type="dca", initial_balance=D(10000)), clock=clock
        )
    funded = await _portfolio(db, ann, clock)
    assert funded["value"] == D(20500)
    assert (funded["change_percent"], funded["change"], funded["net_flows"]) == (
        D(5), 500, D(10000),
    )  # fmt: skip
    clock.advance(hours=1)
    await _snapshot(db, ann, clock)
    await _grow(db, second.id, D(205))  # +1 % of 20,500: 1.05 x 1.01
    clock.advance(hours=1)
    after = await _portfolio(db, ann, clock)
    assert (after["change_percent"], after["change"]) == (D("6.05"), 705)

    async with db.sessions.begin() as s:  # its 10,205 leave with it
        await delete_bot(s, ann, second.id, clock=clock)
    deleted = await _portfolio(db, ann, clock)
    assert deleted["value"] == D(10500)
    assert (deleted["change_percent"], deleted["change"]) == (D("6.05"), 705)
    async with db.session() as s:
        reasons = list(
            await s.scalars(
                select(CashFlow.reason)
                .where(CashFlow.user_id == ann.user_id)
                .order_by(CashFlow.amount)
            )
        )
    assert reasons == ["bot deleted", "starting balance", "starting balance"]

    bob = await add_user(db, "bob@example.com")  # another user's flows never count
    assert (await _portfolio(db, bob, clock))["change"] is None


async def test_a_live_balance_read_from_the_exchange_is_a_flow(db: Database) -> None:
    ann = await add_user(db, "ann@example.com")
    clock = FrozenClock(T0)
    async with db.sessions.begin() as s:
        bot = await create_bot(s, ann, BotSpec(name="First", type="dca"), clock=clock)
        wallet_id = await s.scalar(select(BotWallet.id).where(BotWallet.bot_id == bot.id))
        await sync_balances(s, wallet_id, {"USDT": D(12000)})  # 2,000 deposited on the exchange
        flows = list(
            await s.scalars(select(CashFlow.amount).where(CashFlow.reason != "starting balance"))
        )
    assert flows == [D(2000)]
