"""The dashboard's home figures: portfolio value now and over time, today's P&L, exposure.

Definitions (docs/dashboard.md):
- **portfolio value** = the sum over the user's wallets (bots' and manual, paper and live) of
  quote cash plus open positions at their last marked price — the same valuation as the
  ``portfolio_history`` snapshots, so "now" continues the chart;
- **realized today** = the sum of ``trades.profit_loss`` of the user's trades executed since
  ``day_start`` (the caller's midnight);
- **unrealized** = the sum of ``unrealized_pnl`` over open positions;
- **exposure** = the market value of open positions (remaining quantity x current price).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.trading import Trade
from core.ledger.snapshots import wallet_values
from core.services import notifications
from core.services.actor import Actor

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Overview:
    value: Decimal
    paper_value: Decimal
    live_value: Decimal
    cash: Decimal
    exposure: Decimal
    unrealized_pnl: Decimal
    realized_today: Decimal
    trades_today: int
    open_positions: int
    unread_notifications: int


async def overview(db: Database, actor: Actor, *, day_start: datetime) -> Overview:
    async with db.session() as session:
        values = await wallet_values(session, user_id=actor.user_id)
        realized, count = (
            await session.execute(
                select(func.coalesce(func.sum(Trade.profit_loss), ZERO), func.count()).where(
                    Trade.user_id == actor.user_id, Trade.executed_at >= day_start
                )
            )
        ).one()
        unread = await notifications.unread_count(session, actor)
    positions = sum(
        len(v.holdings) - 1 for v in values
    )  # holdings: the quote cash, then one per position
    return Overview(
        value=sum((v.total for v in values), ZERO),
        paper_value=sum((v.total for v in values if v.is_paper), ZERO),
        live_value=sum((v.total for v in values if not v.is_paper), ZERO),
        cash=sum((v.cash for v in values), ZERO),
        exposure=sum((v.positions_value for v in values), ZERO),
        unrealized_pnl=sum((v.unrealized_pnl for v in values), ZERO),
        realized_today=realized or ZERO,  # coalesced: never NULL
        trades_today=int(count),
        open_positions=positions,
        unread_notifications=unread,
    )
