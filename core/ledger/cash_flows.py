"""Money put into or taken out of a user's wallets (``cash_flows``).

A flow is not profit: a bot's starting cash, a live wallet's quote balance re-read from its
exchange (the difference with the ledger is money the user moved on the exchange) and a deleted
bot's remaining value are recorded here, and returns are time-weighted around them
(``core.ledger.returns``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import CashFlow
from core.ids import new_id

FUNDING = "starting balance"
EXCHANGE = "exchange balance"
DELETED = "bot deleted"


async def record_flow(
    session: AsyncSession,
    *,
    user_id: str,
    wallet_id: str,
    amount: Decimal,
    currency: str,
    reason: str,
    at: datetime | None = None,
) -> None:
    """Add one flow (nothing when ``amount`` is zero); ``at`` defaults to the database's now."""
    if not amount:
        return
    flow = CashFlow(
        id=new_id(),
        user_id=user_id,
        wallet_id=wallet_id,
        amount=amount,
        currency=currency,
        reason=reason,
    )
    if at is not None:
        flow.occurred_at = at
    session.add(flow)
    await session.flush()
