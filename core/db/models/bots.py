"""Trading bots: bots, executions, performance, backtests, datasets, pump detections, bot wallets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    money,
    updated_at_column,
)


class Bot(Base):
    """A user's trading bot: configuration and lifecycle (a Nexgent "agent")."""

    __tablename__ = "bots"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "type"),
        Index(None, "status"),
        Index(None, "user_id", "status"),
        Index(None, "status", "last_execution_at"),
        Index(None, "user_id", "type", "status"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    name: Mapped[str]
    description: Mapped[str | None]
    type: Mapped[str] = mapped_column(default="ai", server_default="ai")
    status: Mapped[str] = mapped_column(default="inactive", server_default="inactive")
    config: Mapped[dict[str, Any]]
    risk_settings: Mapped[dict[str, Any]]
    paper_trading: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    last_execution_at: Mapped[datetime | None]
    # Engine additions (revision 0005): the lease of the engine process running a cycle, the
    # failure count and message behind the error state, the back-off of a bot whose exchange
    # is out, and the strategy state that must outlive a process (grid orders, DCA ladder...).
    lease_owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    error_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None]
    backoff_until: Mapped[datetime | None]
    engine_state: Mapped[dict[str, Any] | None]


class Execution(Base):
    """One bot decision cycle. ``execution_id`` is the idempotency key."""

    __tablename__ = "executions"
    __table_args__ = (Index(None, "bot_id"), Index(None, "timestamp"), Index(None, "signal"))

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    execution_id: Mapped[str] = mapped_column(unique=True)
    signal: Mapped[str]
    confidence: Mapped[Decimal] = money()
    reason: Mapped[str]
    price: Mapped[Decimal] = money()
    indicators: Mapped[dict[str, Any]]
    status: Mapped[str]
    error: Mapped[str | None]
    timestamp: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class PerformanceSnapshot(Base):
    """Periodic bot performance metrics for tracking and display."""

    __tablename__ = "performance_snapshots"
    __table_args__ = (Index(None, "bot_id"), Index(None, "timestamp"))

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    timestamp: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    metrics: Mapped[dict[str, Any]]
    risk_score: Mapped[Decimal] = money()
    rating: Mapped[str]
    total_trades: Mapped[int]
    win_rate: Mapped[Decimal] = money()
    total_return: Mapped[Decimal] = money()
    total_return_percent: Mapped[Decimal] = money()
    max_drawdown_percent: Mapped[Decimal] = money()
    sharpe_ratio: Mapped[Decimal] = money()
    profit_factor: Mapped[Decimal] = money()


Index(
    "ix_performance_snapshots_bot_id_timestamp_desc",
    PerformanceSnapshot.bot_id,
    PerformanceSnapshot.timestamp.desc(),
)


class Backtest(Base):
    """A backtest run of a bot against historical data, with its report."""

    __tablename__ = "backtests"
    __table_args__ = (Index(None, "bot_id"), Index(None, "user_id"), Index(None, "created_at"))

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    config: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    execution_time: Mapped[int]
    created_at: Mapped[datetime] = created_at_column()


class Optimization(Base):
    """A ``blockbotx optimize`` run's summary: best trials, parameter importance and the
    out-of-sample result of each window (the trials themselves are in the Optuna study,
    schema ``optuna``). ``user_id`` is null for a run the operator kept for administrators."""

    __tablename__ = "optimizations"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = mapped_column(fk("users.id"))
    study_name: Mapped[str]
    strategy: Mapped[str]
    objective: Mapped[str]
    timeframe: Mapped[str]
    source: Mapped[str]
    summary: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()


class HistoricalDataset(Base):
    """Cached OHLCV candles for backtesting, so the exchange API is not fetched twice."""

    __tablename__ = "historical_datasets"
    __table_args__ = (
        UniqueConstraint("symbol", "timeframe", "start_date", "end_date"),
        Index(None, "symbol"),
        Index(None, "timeframe"),
        Index(None, "updated_at"),
        Index(
            "uq_historical_datasets_exchange_window",
            "exchange",
            "symbol",
            "timeframe",
            unique=True,
            postgresql_where=text("exchange IS NOT NULL"),
        ),
    )

    id: Mapped[str] = id_column()
    symbol: Mapped[str]
    timeframe: Mapped[str]
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]
    candle_count: Mapped[int]
    candles: Mapped[list[Any]]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    exchange: Mapped[str | None]
    """Set on the engine's rolling window of one exchange's candles (one row per exchange,
    symbol and timeframe, kept current by ``core.market.candle_store``); NULL on imports."""


class BotExecution(Base):
    """An arbitrage-engine run. ``bot_id`` is a plain string, deliberately without a foreign key."""

    __tablename__ = "bot_executions"
    __table_args__ = (Index(None, "bot_id"), Index(None, "started_at"))

    id: Mapped[str] = id_column()
    bot_id: Mapped[str]
    status: Mapped[str]
    logs: Mapped[list[Any] | None]
    profit_loss: Mapped[Decimal | None] = money(nullable=True)
    trades_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    started_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    ended_at: Mapped[datetime | None]


class PumpDetection(Base):
    """A pump-screener alert for unusual price or volume activity."""

    __tablename__ = "pump_detections"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "bot_id"),
        Index(None, "detected_at"),
        Index(None, "symbol"),
    )

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    symbol: Mapped[str]
    price_change: Mapped[Decimal] = money()
    volume_change: Mapped[Decimal] = money()
    current_price: Mapped[Decimal] = money()
    market_cap: Mapped[Decimal | None] = money(nullable=True)
    volume_24h: Mapped[Decimal | None] = money(nullable=True)
    social_mentions: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    confidence: Mapped[str]
    detected_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class BotWallet(Base):
    """Nexgent addition: a bot's wallet for one trading mode ('simulation' or 'live')."""

    __tablename__ = "bot_wallets"
    __table_args__ = (UniqueConstraint("bot_id", "wallet_type"), Index(None, "bot_id"))

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    wallet_type: Mapped[str]
    quote_currency: Mapped[str] = mapped_column(default="USDT", server_default="USDT")
    initial_balance: Mapped[Decimal] = money(default=0)
    # The live wallet's exchange; kept (unlinked) if the connection is removed.
    exchange_connection_id: Mapped[str | None] = mapped_column(
        fk("exchange_connections.id", ondelete="SET NULL")
    )
    paper_market: Mapped[str | None]
    """A simulation wallet priced by this exchange's public data (a ccxt id); NULL: the
    simulated market."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class BotBalance(Base):
    """Nexgent addition: one asset's balance in a bot wallet."""

    __tablename__ = "bot_balances"
    __table_args__ = (UniqueConstraint("wallet_id", "asset"),)

    id: Mapped[str] = id_column()
    wallet_id: Mapped[str] = mapped_column(fk("bot_wallets.id"))
    asset: Mapped[str]
    amount: Mapped[Decimal] = money(default=0)
    # Reserved by resting orders.
    locked: Mapped[Decimal] = money(default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class BotBalanceSnapshot(Base):
    """Nexgent addition: an hourly snapshot of a bot wallet's value. ``timestamp`` is the hour."""

    __tablename__ = "bot_balance_snapshots"
    __table_args__ = (UniqueConstraint("wallet_id", "timestamp"),)

    id: Mapped[str] = id_column()
    wallet_id: Mapped[str] = mapped_column(fk("bot_wallets.id"))
    timestamp: Mapped[datetime]
    total_value: Mapped[Decimal] = money(default=0)
    cash_balance: Mapped[Decimal] = money(default=0)
    positions_value: Mapped[Decimal] = money(default=0)
    realized_pnl: Mapped[Decimal] = money(default=0)
    unrealized_pnl: Mapped[Decimal] = money(default=0)
    balances: Mapped[list[Any]]
    created_at: Mapped[datetime] = created_at_column()


Index(
    "ix_bot_balance_snapshots_wallet_id_timestamp_desc",
    BotBalanceSnapshot.wallet_id,
    BotBalanceSnapshot.timestamp.desc(),
)


class CashFlow(Base):
    """Money put into or taken out of a user's wallets (BlockbotX addition, revision 0015):
    a paper wallet's starting cash, a live wallet's balance re-read from its exchange, a
    deleted bot's remaining value. Returns are time-weighted around these (docs/commerce.md).
    ``wallet_id`` has no foreign key: the record outlives a deleted bot's wallet."""

    __tablename__ = "cash_flows"
    __table_args__ = (Index(None, "user_id", "occurred_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    wallet_id: Mapped[str]
    # Positive in (a deposit, a bot's funding), negative out (a withdrawal, a deleted bot).
    amount: Mapped[Decimal] = money()
    currency: Mapped[str]
    reason: Mapped[str]
    occurred_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


__all__ = [
    "Backtest",
    "Bot",
    "BotBalance",
    "BotBalanceSnapshot",
    "BotExecution",
    "BotWallet",
    "CashFlow",
    "Execution",
    "HistoricalDataset",
    "Optimization",
    "PerformanceSnapshot",
    "PumpDetection",
]
