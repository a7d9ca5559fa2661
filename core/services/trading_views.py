"""What the trading service returns: frozen views of orders, trades, positions and accounts.

Plain data for the TUI and the CLI (never ORM rows), and keyset pages of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from core.db.models.bots import Bot
from core.db.models.trading import Order, Position, Trade
from core.ledger.wallets import MANUAL_BOT_TYPE

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TradeView:
    id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal
    executed_price: Decimal
    fee: Decimal
    fee_currency: str
    total: Decimal
    profit_loss: Decimal | None
    balance: Decimal
    is_paper: bool
    bot_id: str | None
    position_id: str | None
    order_id: str | None
    executed_at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    filled: Decimal
    status: str
    is_paper: bool
    client_order_id: str | None
    exchange_order_id: str | None
    error: str | None
    created_at: datetime
    filled_at: datetime | None
    trades: tuple[TradeView, ...] = ()


@dataclass(frozen=True, slots=True)
class PositionView:
    id: str
    bot_id: str
    bot_name: str
    is_manual: bool
    symbol: str
    status: str
    is_paper: bool
    quantity: Decimal  # bought in total
    remaining_quantity: Decimal
    entry_price: Decimal
    current_price: Decimal
    cost_basis: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_percent: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    profit_loss: Decimal | None
    profit_loss_percent: Decimal | None
    exit_price: Decimal | None
    close_reason: str | None
    stop_loss: Decimal
    take_profit: Decimal
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderEstimate:
    """What the confirm dialog shows before an order is sent."""

    venue: str
    symbol: str
    side: str
    type: str
    quantity: Decimal  # rounded to the pair's step
    price: Decimal  # expected fill price (limit price, or the current quote)
    notional: Decimal
    fee_rate: Decimal
    fee: Decimal
    total: Decimal  # a buy costs notional + fee; a sale brings notional - fee
    asset: str  # what the order spends
    available: Decimal | None  # free balance of ``asset`` (None when unknown)
    sufficient: bool | None
    min_quantity: Decimal
    min_notional: Decimal | None = None
    adjustments: tuple[str, ...] = ()
    """How the exchange's rules changed what was typed (rounded quantity or price), in words."""


@dataclass(frozen=True, slots=True)
class AccountView:
    """The manual paper wallet at a glance."""

    wallet_id: str
    quote: str
    initial_balance: Decimal
    cash: Decimal
    available: Decimal
    positions_value: Decimal
    total: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees_paid: Decimal


@dataclass(frozen=True, slots=True)
class PortfolioPoint:
    timestamp: datetime
    total_value: Decimal


def trade_view(t: Trade) -> TradeView:
    return TradeView(
        id=t.id,
        symbol=t.symbol,
        side=t.side,
        type=t.type,
        quantity=t.quantity,
        price=t.price,
        executed_price=t.executed_price,
        fee=t.fee,
        fee_currency=t.fee_currency,
        total=t.total,
        profit_loss=t.profit_loss,
        balance=t.balance,
        is_paper=t.is_paper_trade,
        bot_id=t.bot_id,
        position_id=t.position_id,
        order_id=t.order_id,
        executed_at=t.executed_at,
    )


def order_view(o: Order, symbol: str, trades: tuple[TradeView, ...] = ()) -> OrderView:
    return OrderView(
        id=o.id,
        symbol=symbol,
        side=o.side,
        type=o.type,
        quantity=o.quantity,
        price=o.price,
        stop_price=o.stop_price,
        filled=o.filled,
        status=o.status,
        is_paper=o.is_paper,
        client_order_id=o.client_order_id,
        exchange_order_id=o.exchange_order_id,
        error=o.error,
        created_at=o.created_at,
        filled_at=o.filled_at,
        trades=trades,
    )


def position_view(p: Position, bot: Bot) -> PositionView:
    return PositionView(
        id=p.id,
        bot_id=bot.id,
        bot_name=bot.name,
        is_manual=bot.type == MANUAL_BOT_TYPE,
        symbol=p.symbol,
        status=p.status,
        is_paper=p.is_paper_trade,
        quantity=p.quantity,
        remaining_quantity=p.quantity if p.remaining_quantity is None else p.remaining_quantity,
        entry_price=p.entry_price,
        current_price=p.current_price,
        cost_basis=p.cost_basis,
        unrealized_pnl=p.unrealized_pnl,
        unrealized_pnl_percent=p.unrealized_pnl_percent,
        realized_pnl=p.realized_pnl,
        fees_paid=p.fees_paid,
        profit_loss=p.profit_loss,
        profit_loss_percent=p.profit_loss_percent,
        exit_price=p.exit_price,
        close_reason=p.close_reason,
        stop_loss=p.stop_loss,
        take_profit=p.take_profit,
        created_at=p.created_at,
        closed_at=p.closed_at,
    )
