"""Exchanges and trading: exchanges, exchange connections, pairs, trades, orders, positions, portfolio history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint, func, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    TextArray,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    money,
    updated_at_column,
)


class Exchange(Base):
    """Metadata about a supported exchange platform."""

    __tablename__ = "exchanges"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(unique=True)
    api_url: Mapped[str]
    websocket_url: Mapped[str | None]
    supported_pairs: Mapped[list[Any]]
    fees: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class FeeTier(Base):
    """A user's own fees on an exchange (their VIP tier, a discount): paper fills on that
    exchange's prices pay these instead of the market's published fees."""

    __tablename__ = "fee_tiers"
    __table_args__ = (UniqueConstraint("user_id", "exchange"), Index(None, "user_id"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    exchange: Mapped[str]
    maker_fee: Mapped[Decimal | None] = money(nullable=True)
    taker_fee: Mapped[Decimal] = money()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class ExchangeConnection(Base):
    """A user's encrypted API credentials for one exchange (Binance, OKX). Never withdraw rights."""

    __tablename__ = "exchange_connections"
    __table_args__ = (
        UniqueConstraint("user_id", "exchange"),
        Index(None, "user_id"),
        Index(None, "exchange"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    exchange: Mapped[str]
    encrypted_api_key: Mapped[str]
    encrypted_secret_key: Mapped[str]
    encrypted_passphrase: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    is_testnet: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    permissions: Mapped[list[str]] = mapped_column(
        TextArray, default=lambda: ["read"], server_default=text("'{read}'::varchar[]")
    )
    label: Mapped[str | None]
    last_used: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class TradingPair(Base):
    """An exchange-specific trading pair with its precision and size rules."""

    __tablename__ = "trading_pairs"
    __table_args__ = (UniqueConstraint("exchange_id", "symbol"), Index(None, "symbol"))

    id: Mapped[str] = id_column()
    exchange_id: Mapped[str] = mapped_column(fk("exchanges.id"))
    symbol: Mapped[str]
    base: Mapped[str]
    quote: Mapped[str]
    min_order_size: Mapped[Decimal] = money()
    max_order_size: Mapped[Decimal | None] = money(nullable=True)
    min_notional: Mapped[Decimal | None] = money(nullable=True)
    """The smallest order value in the quote currency (the exchange's minimum notional)."""
    price_precision: Mapped[int]
    quantity_precision: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Trade(Base):
    """An executed trade, paper or live. Central to P&L tracking.

    Every optional reference is SET NULL (not CASCADE): deleting a bot, exchange, pair,
    position or order must never delete the trade history.
    """

    __tablename__ = "trades"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "bot_id"),
        Index(None, "exchange_id"),
        Index(None, "executed_at"),
        Index(None, "symbol"),
        Index(None, "profit_loss"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    bot_id: Mapped[str | None] = mapped_column(fk("bots.id", ondelete="SET NULL"))
    # SET NULL (the seed only says so for bot_id): trade history outlives its references.
    exchange_id: Mapped[str | None] = mapped_column(fk("exchanges.id", ondelete="SET NULL"))
    pair_id: Mapped[str | None] = mapped_column(fk("trading_pairs.id", ondelete="SET NULL"))
    position_id: Mapped[str | None] = mapped_column(fk("positions.id", ondelete="SET NULL"))
    order_id: Mapped[str | None] = mapped_column(fk("orders.id", ondelete="SET NULL"))
    symbol: Mapped[str]
    side: Mapped[str]
    type: Mapped[str] = mapped_column(default="MARKET", server_default="MARKET")
    price: Mapped[Decimal] = money()
    quantity: Mapped[Decimal] = money()
    executed_price: Mapped[Decimal] = money()
    fee: Mapped[Decimal] = money(default=0)
    fee_currency: Mapped[str] = mapped_column(default="USDT", server_default="USDT")
    total: Mapped[Decimal] = money(default=0)
    profit_loss: Mapped[Decimal | None] = money(nullable=True)
    balance: Mapped[Decimal] = money(default=0)
    status: Mapped[str] = mapped_column(default="FILLED", server_default="FILLED")
    is_paper_trade: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    executed_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


Index("ix_trades_bot_id_executed_at_desc", Trade.bot_id, Trade.executed_at.desc())
Index("ix_trades_user_id_executed_at_desc", Trade.user_id, Trade.executed_at.desc())
Index(
    "ix_trades_user_id_symbol_executed_at_desc",
    Trade.user_id,
    Trade.symbol,
    Trade.executed_at.desc(),
)
Index(
    "ix_trades_user_id_status_executed_at_desc",
    Trade.user_id,
    Trade.status,
    Trade.executed_at.desc(),
)
# Not in the seed: the trade history's other orders, keyset-paged on (value, id), so a page of
# a million trades sorted by symbol, size or P&L is an index range too (revision 0007).
TRADE_PNL_SORT = func.coalesce(Trade.profit_loss, literal_column("0"))
Index("ix_trades_user_id_symbol_id", Trade.user_id, Trade.symbol, Trade.id)
Index("ix_trades_user_id_total_id", Trade.user_id, Trade.total, Trade.id)
Index("ix_trades_user_id_pnl_id", Trade.user_id, TRADE_PNL_SORT, Trade.id)


class Order(Base):
    """An order's lifecycle from placement through fill or cancellation."""

    __tablename__ = "orders"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "bot_id"),
        Index(None, "status"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    bot_id: Mapped[str | None] = mapped_column(fk("bots.id", ondelete="SET NULL"))
    exchange_id: Mapped[str] = mapped_column(fk("exchanges.id"))
    pair_id: Mapped[str] = mapped_column(fk("trading_pairs.id"))
    type: Mapped[str]
    side: Mapped[str]
    price: Mapped[Decimal | None] = money(nullable=True)
    quantity: Mapped[Decimal] = money()
    filled: Mapped[Decimal] = money(default=0)
    status: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    filled_at: Mapped[datetime | None]
    # Ledger additions (revision 0003): the idempotency key sent to the exchange, the exchange's
    # own id, the wallet paying for the order, the trigger of stop-loss/take-profit orders, the
    # funds locked while the order rests, and why a failed order failed.
    client_order_id: Mapped[str | None] = mapped_column(unique=True)
    exchange_order_id: Mapped[str | None]
    wallet_id: Mapped[str | None] = mapped_column(fk("bot_wallets.id", ondelete="SET NULL"))
    is_paper: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    stop_price: Mapped[Decimal | None] = money(nullable=True)
    reserved: Mapped[Decimal] = money(default=0)
    error: Mapped[str | None]


class Position(Base):
    """An open or closed bot position with P&L, plus Nexgent's exit-strategy state.

    No user_id (as in the seed): the owner is reached through the bot.
    """

    __tablename__ = "positions"
    __table_args__ = (
        Index(None, "bot_id"),
        Index(None, "status"),
        Index(None, "symbol"),
        Index(None, "bot_id", "status"),
    )

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    symbol: Mapped[str]
    side: Mapped[str]
    quantity: Mapped[Decimal] = money()
    entry_price: Mapped[Decimal] = money()
    current_price: Mapped[Decimal] = money()
    stop_loss: Mapped[Decimal] = money()
    take_profit: Mapped[Decimal] = money()
    unrealized_pnl: Mapped[Decimal] = money(default=0)
    unrealized_pnl_percent: Mapped[Decimal] = money(default=0)
    status: Mapped[str] = mapped_column(default="open", server_default="open")
    exit_price: Mapped[Decimal | None] = money(nullable=True)
    profit_loss: Mapped[Decimal | None] = money(nullable=True)
    profit_loss_percent: Mapped[Decimal | None] = money(nullable=True)
    close_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    closed_at: Mapped[datetime | None]
    # Nexgent additions: the wallet holding the position and the exit-strategy state.
    wallet_id: Mapped[str | None] = mapped_column(fk("bot_wallets.id", ondelete="SET NULL"))
    is_paper_trade: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    peak_price: Mapped[Decimal | None] = money(nullable=True)
    lowest_price: Mapped[Decimal | None] = money(nullable=True)
    current_stop_loss_percent: Mapped[Decimal | None] = money(nullable=True)
    last_stop_loss_update: Mapped[datetime | None]
    dca_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_dca_time: Mapped[datetime | None]
    total_invested: Mapped[Decimal] = money(default=0)
    take_profit_levels_hit: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_take_profit_time: Mapped[datetime | None]
    # Null means the whole quantity is still held.
    remaining_quantity: Mapped[Decimal | None] = money(nullable=True)
    realized_pnl: Mapped[Decimal] = money(default=0)
    fees_paid: Mapped[Decimal] = money(default=0)
    moon_bag_activated: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    moon_bag_quantity: Mapped[Decimal | None] = money(nullable=True)
    # Ledger addition (revision 0003): the exact cost of the quantity still held (average cost
    # basis), so partial exits book realized P&L without rounding the entry price.
    cost_basis: Mapped[Decimal] = money(default=0)


class PortfolioHistory(Base):
    """A periodic snapshot of a user's portfolio value, for charting."""

    __tablename__ = "portfolio_history"
    __table_args__ = (Index(None, "user_id"), Index(None, "timestamp"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    total_value: Mapped[Decimal] = money()
    assets: Mapped[list[Any]]
    timestamp: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


__all__ = [
    "Exchange",
    "ExchangeConnection",
    "FeeTier",
    "Order",
    "PortfolioHistory",
    "Position",
    "Trade",
    "TradingPair",
]
