"""A provider's reliability from the outcomes of the trades its signals produced."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.signals import Signal, SignalExecution, SignalProvider
from core.db.models.trading import Position, Trade
from core.services import signals as service
from core.services.actor import Actor
from core.signals.reliability import reliability_score, update_reliability

D = Decimal
ZERO = Decimal(0)


def test_the_score_is_a_smoothed_win_rate() -> None:
    assert reliability_score(0, 0) == D(0)
    assert reliability_score(1, 1) == D("66.67")
    assert reliability_score(0, 1) == D("33.33")
    assert reliability_score(10, 10) == D("91.67")
    assert reliability_score(50, 100) == D("50.00")


async def test_reliability_counts_closed_buys_and_sells_net_of_quote_fees(
    db: Database, alice: Actor
) -> None:
    clock = FrozenClock()
    now = clock.now()
    desk = (await service.create_provider(db, alice, name="desk", type="webhook")).info.id
    quiet = (await service.create_provider(db, alice, name="quiet", type="webhook")).info.id
    async with db.sessions.begin() as s:
        bot = Bot(user_id=alice.user_id, name="b", type="signal", config={}, risk_settings={})
        s.add(bot)
        await s.flush()

        async def executed(
            side: str,
            *,
            position: tuple[str, Decimal | None] | None = None,
            pnl: Decimal | None = None,
            fee: Decimal = ZERO,
            fee_currency: str = "USDT",
            status: str = "success",
            age: timedelta = timedelta(days=1),
        ) -> None:
            signal = Signal(provider_id=desk, symbol="BTC/USDT", action=side, created_at=now - age)
            s.add(signal)
            position_id = None
            if position is not None:
                row = Position(
                    bot_id=bot.id, symbol="BTC/USDT", side="BUY", quantity=D(1),
                    entry_price=D(100), current_price=D(100), stop_loss=D(90),
                    take_profit=D(120), status=position[0], profit_loss=position[1],
                )  # fmt: skip
                s.add(row)
                await s.flush()
                position_id = row.id
            trade = Trade(
                user_id=alice.user_id, bot_id=bot.id, position_id=position_id,
                symbol="BTC/USDT", side=side, price=D(100), quantity=D(1),
                executed_price=D(100), profit_loss=pnl, fee=fee, fee_currency=fee_currency,
            )  # fmt: skip
            s.add(trade)
            await s.flush()
            s.add(
                SignalExecution(
                    signal_id=signal.id, bot_id=bot.id, status=status, trade_id=trade.id
                )
            )

        await executed("BUY", position=("closed", D("10.5")))  # win
        await executed("BUY", position=("closed", D("-5")))  # loss
        await executed("BUY", position=("closed", D(0)))  # break-even counts as a loss
        await executed("BUY", position=("open", None))  # pending: not counted
        await executed("SELL", pnl=D(3), fee=D(1))  # net 2: win
        await executed("SELL", pnl=D(1), fee=D(2))  # net -1: loss
        await executed("SELL", pnl=D(1), fee=D(2), fee_currency="BNB")  # fee not in quote: win
        await executed("SELL", pnl=D(50), status="failed")  # not executed: not counted
        await executed("SELL", pnl=D(50), age=timedelta(days=91))  # outside the window
    scores = await update_reliability(db, clock=clock)
    # 3 wins of 6 decided: 100 × 4 / 8
    assert scores == {desk: D("50.00"), quiet: D(0)}
    async with db.session() as s:
        assert (await s.get(SignalProvider, desk)).reliability == D(50)  # type: ignore[union-attr]
    # A wider window takes the old winning sell in: 4 of 7.
    assert await update_reliability(db, clock=clock, provider_id=desk, window_days=365) == {
        desk: D("55.56")
    }
    async with db.session() as s:
        assert (await s.get(SignalProvider, quiet)).reliability == D(0)  # type: ignore[union-attr]
