"""The live positions board: every open position of the user with its exit state, in one query.

The dashboard marks these to market itself between database updates (2-4 times a second on the
simulated market), so a row carries what that needs: the quantity held and its exact cost basis
(``unrealized = held x price - cost_basis``, the ledger's definition), and the exit rules'
state (stop, target, the trailing peak, take-profit levels hit, the moon bag).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.trading import Position
from core.errors import InvalidInput
from core.ledger.accounting import CONTEXT
from core.ledger.wallets import MANUAL_BOT_TYPE
from core.services.actor import Actor

MAX_OPEN = 5000
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class OpenPosition:
    id: str
    bot_id: str
    bot_name: str
    is_manual: bool
    symbol: str
    side: str
    is_paper: bool
    held: Decimal
    entry_price: Decimal
    cost_basis: Decimal
    current_price: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_percent: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    peak_price: Decimal | None
    stop_percent: Decimal | None
    """The stop relative to the entry (%): it ratchets up as a trailing stop follows the peak."""
    take_profit_levels_hit: int
    moon_bag: bool
    created_at: datetime

    def marked(self, price: Decimal) -> tuple[Decimal, Decimal]:
        """(unrealized P&L, its percent of the cost basis) at ``price``, as the ledger books it."""
        with localcontext(CONTEXT):
            pnl = self.held * price - self.cost_basis
            pct = (
                (pnl / self.cost_basis * HUNDRED).quantize(Decimal("0.01"))
                if self.cost_basis
                else Decimal(0)
            )
        return pnl, pct


async def open_positions(
    db: Database, actor: Actor, *, limit: int = MAX_OPEN
) -> list[OpenPosition]:
    """The user's open positions (manual ones included), newest first."""
    if not 1 <= limit <= MAX_OPEN:
        raise InvalidInput(f"The board shows 1 to {MAX_OPEN} positions.", field="limit")
    held = func.coalesce(Position.remaining_quantity, Position.quantity)
    stmt = (
        select(Position, Bot.name, Bot.type, held)
        .join(Bot, Bot.id == Position.bot_id)
        .where(Bot.user_id == actor.user_id, Position.status == "open")
        .order_by(Position.created_at.desc(), Position.id.desc())
        .limit(limit)
    )
    async with db.session() as session:
        rows = (await session.execute(stmt)).all()
    return [
        OpenPosition(
            id=p.id,
            bot_id=p.bot_id,
            bot_name=name,
            is_manual=bot_type == MANUAL_BOT_TYPE,
            symbol=p.symbol,
            side=p.side,
            is_paper=p.is_paper_trade,
            held=quantity,
            entry_price=p.entry_price,
            cost_basis=p.cost_basis,
            current_price=p.current_price,
            unrealized_pnl=p.unrealized_pnl,
            unrealized_pnl_percent=p.unrealized_pnl_percent,
            stop_loss=p.stop_loss,
            take_profit=p.take_profit,
            peak_price=p.peak_price,
            stop_percent=p.current_stop_loss_percent,
            take_profit_levels_hit=p.take_profit_levels_hit,
            moon_bag=p.moon_bag_activated,
            created_at=p.created_at,
        )
        for p, name, bot_type, quantity in rows
    ]
