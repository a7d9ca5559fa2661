"""Time-weighted return: how the money did, whatever money came in or went out.

The period is cut at every cash flow (``core.ledger.cash_flows``); each piece grows by
``(value at its end − the flows inside it) / value at its start`` and the pieces multiply. A bot
funded with 10,000 adds 10,000 to the value and 10,000 to the flows, so the return doesn't move.
Between two flows the chain telescopes, so only the snapshots around each flow are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import Timestamp
from core.db.models.bots import CashFlow
from core.ledger.accounting import CONTEXT, PERCENT_QUANTUM, ZERO

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class PeriodReturn:
    start_value: Decimal
    net_flows: Decimal  # money in minus money out over the period
    gain: Decimal  # value now − start value − net flows
    percent: Decimal  # time-weighted, to 8 places


def time_weighted(
    points: Sequence[tuple[datetime, Decimal]], flows: Sequence[tuple[datetime, Decimal]]
) -> Decimal:
    """The time-weighted return in percent over ``points`` (time, value), oldest first; a flow
    belongs to the piece ``(previous point, point]`` it falls in (flows outside are ignored). A
    piece that starts at zero value has no return and is skipped."""
    with localcontext(CONTEXT):
        growth = ONE
        for (begin, start), (end, value) in pairwise(points):
            if start <= 0:
                continue
            inside = sum((a for t, a in flows if begin < t <= end), ZERO)
            growth *= (value - inside) / start
        return ((growth - ONE) * 100).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


_AROUND = text(
    """
    SELECT before.timestamp, before.total_value, after.timestamp, after.total_value
    FROM unnest(:times) AS f(t)
    LEFT JOIN LATERAL (
        SELECT timestamp, total_value FROM portfolio_history
        WHERE user_id = :user_id AND timestamp < f.t AND timestamp > :start
        ORDER BY timestamp DESC LIMIT 1) before ON true
    LEFT JOIN LATERAL (
        SELECT timestamp, total_value FROM portfolio_history
        WHERE user_id = :user_id AND timestamp >= f.t AND timestamp < :now
        ORDER BY timestamp LIMIT 1) after ON true
    """
).bindparams(bindparam("times", type_=ARRAY(Timestamp)))


async def portfolio_return(
    session: AsyncSession,
    user_id: str,
    *,
    start: tuple[datetime, Decimal],
    now: tuple[datetime, Decimal],
) -> PeriodReturn:
    """The user's return from the ``start`` snapshot (time, value) to ``now`` (time, value),
    around the cash flows between them (``portfolio_history`` gives the values at the flows)."""
    flows = [
        (t, a)
        for t, a in (
            await session.execute(
                select(CashFlow.occurred_at, CashFlow.amount)
                .where(
                    CashFlow.user_id == user_id,
                    CashFlow.occurred_at > start[0],
                    CashFlow.occurred_at <= now[0],
                )
                .order_by(CashFlow.occurred_at)
            )
        ).all()
    ]
    points = {start[0]: start[1]}
    if flows:
        around = await session.execute(
            _AROUND,
            {
                "times": sorted({t for t, _ in flows}),
                "user_id": user_id,
                "start": start[0],
                "now": now[0],
            },
        )
        for row in around.all():
            for t, v in (row[0:2], row[2:4]):
                if t is not None:
                    points[t] = v
    points[now[0]] = now[1]
    net = sum((a for _, a in flows), ZERO)
    return PeriodReturn(
        start_value=start[1],
        net_flows=net,
        gain=now[1] - start[1] - net,
        percent=time_weighted(sorted(points.items()), flows),
    )
