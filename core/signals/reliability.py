"""A provider's reliability (``signal_providers.reliability``, 0–100) from its signals' trades.

An *outcome* is one successful ``signal_executions`` row with a trade, for a signal created in
the last ``window_days`` (90):

- the trade is a **BUY**: the position it opened or added to, once **closed**, is a win when its
  net P&L (``positions.profit_loss``: realized P&L − fees) is above zero, else a loss; while
  the position is open the outcome is pending and not counted;
- the trade is a **SELL**: a win when its realized P&L (``trades.profit_loss``) minus its fee
  (when the fee is in the quote currency) is above zero, else a loss.

``reliability = 100 × (wins + 1) / (decided + 2)``, rounded half-even to 2 places: the win rate
with Laplace smoothing, so one lucky trade gives 66.67, not 100, and a long record converges to
the plain win rate. With no decided outcome in the window the score is 0 ("no track record").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.signals import Signal, SignalExecution, SignalProvider
from core.db.models.trading import Position, Trade

WINDOW_DAYS = 90
CENT = Decimal("0.01")


def reliability_score(wins: int, decided: int) -> Decimal:
    if decided <= 0:
        return Decimal(0)
    score = Decimal(100) * (wins + 1) / (decided + 2)
    return score.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _outcome():
    """Net result of one executed signal, NULL while it is not decided yet."""
    quote = func.split_part(Trade.symbol, "/", 2)
    sell_net = Trade.profit_loss - case((Trade.fee_currency == quote, Trade.fee), else_=0)
    return case(
        (
            func.upper(Trade.side) == "BUY",
            case((Position.status == "closed", Position.profit_loss)),
        ),
        (func.upper(Trade.side) == "SELL", sell_net),
    )


async def tally(
    session: AsyncSession, since: datetime, provider_id: str | None = None
) -> dict[str, tuple[int, int]]:
    """(wins, decided) per provider with at least one executed signal in the window."""
    outcome = _outcome().label("outcome")
    per_execution = (
        select(Signal.provider_id, outcome)
        .join(SignalExecution, SignalExecution.signal_id == Signal.id)
        .join(Trade, Trade.id == SignalExecution.trade_id)
        .outerjoin(Position, Position.id == Trade.position_id)
        .where(SignalExecution.status == "success", Signal.created_at >= since)
    )
    if provider_id is not None:
        per_execution = per_execution.where(Signal.provider_id == provider_id)
    sub = per_execution.subquery()
    rows = await session.execute(
        select(
            sub.c.provider_id,
            func.count().filter(sub.c.outcome > 0),
            func.count(sub.c.outcome),
        ).group_by(sub.c.provider_id)
    )
    return {pid: (int(wins), int(decided)) for pid, wins, decided in rows.all()}


async def update_reliability(
    db: Database,
    *,
    clock: Clock = SYSTEM_CLOCK,
    provider_id: str | None = None,
    window_days: int = WINDOW_DAYS,
) -> dict[str, Decimal]:
    """Recompute and store the score of one provider or of all; returns the new scores.

    The engine calls this periodically; it is cheap (one aggregate query and one update per
    provider whose score changed).
    """
    since = clock.now() - timedelta(days=window_days)
    async with db.sessions.begin() as session:
        counts = await tally(session, since, provider_id)
        stmt = select(SignalProvider.id, SignalProvider.reliability)
        if provider_id is not None:
            stmt = stmt.where(SignalProvider.id == provider_id)
        scores: dict[str, Decimal] = {}
        for pid, current in (await session.execute(stmt)).all():
            score = reliability_score(*counts.get(pid, (0, 0)))
            scores[pid] = score
            if current != score:
                await session.execute(
                    update(SignalProvider).where(SignalProvider.id == pid).values(reliability=score)
                )
        return scores
