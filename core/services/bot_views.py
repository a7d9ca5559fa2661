"""What the bots service returns: frozen views of bots, their executions and performance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.db.models.bots import Bot, Execution, PerformanceSnapshot
from core.engine import performance
from core.ledger.wallets import DEFAULT_PAPER_BALANCE, DEFAULT_QUOTE
from core.services.backtests import BacktestSummary
from core.services.trading_views import PositionView

MIN_SHARPE_RETURNS = performance.MIN_SHARPE_RETURNS  # screens say why there's no Sharpe yet


@dataclass(frozen=True, slots=True)
class BotSpec:
    """Everything needed to create a bot. ``config`` and ``risk_settings`` are validated by the
    bot type's model; ``initial_balance`` is the simulation wallet's starting cash;
    ``exchange_connection_id`` (one of the user's connections) is required for a live bot."""

    name: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    risk_settings: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    paper_trading: bool = True
    initial_balance: Decimal = DEFAULT_PAPER_BALANCE
    exchange_connection_id: str | None = None
    quote: str = DEFAULT_QUOTE
    paper_market: str | None = None
    """The exchange (ccxt id) whose public prices and candles the paper wallet trades on;
    None: the simulated market."""


@dataclass(frozen=True, slots=True)
class BotUpdate:
    """Fields to change; ``None`` leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    risk_settings: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BotView:
    id: str
    user_id: str
    name: str
    description: str | None
    type: str
    status: str
    symbol: str
    paper_trading: bool
    config: dict[str, Any]
    risk_settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    last_execution_at: datetime | None
    last_error: str | None
    error_count: int


@dataclass(frozen=True, slots=True)
class BotSummary:
    """One row of the bot list. P&L = realised − fees + unrealised (= wallet value − starting
    cash); its percent is of the starting cash; win rate over closed positions."""

    id: str
    name: str
    type: str
    status: str
    symbol: str
    paper_trading: bool
    pnl: Decimal
    pnl_percent: Decimal | None
    win_rate: Decimal | None
    closed_positions: int
    open_positions: int
    last_execution_at: datetime | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ExecutionView:
    id: str
    execution_id: str
    signal: str
    confidence: Decimal
    reason: str
    price: Decimal
    indicators: dict[str, Any]
    status: str
    error: str | None
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class PerformanceView:
    timestamp: datetime
    total_trades: int
    win_rate: Decimal
    total_return: Decimal
    total_return_percent: Decimal
    max_drawdown_percent: Decimal
    sharpe_ratio: Decimal
    profit_factor: Decimal
    risk_score: Decimal
    rating: str
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WalletView:
    id: str
    wallet_type: str
    quote: str
    initial_balance: Decimal
    cash: Decimal
    exchange_connection_id: str | None


@dataclass(frozen=True, slots=True)
class BotDetail:
    bot: BotView
    wallets: tuple[WalletView, ...]
    open_positions: tuple[PositionView, ...]
    recent_executions: tuple[ExecutionView, ...]
    performance: PerformanceView | None
    backtests: tuple[BacktestSummary, ...]


@dataclass(frozen=True, slots=True)
class StopResult:
    bot: BotView
    closed_positions: tuple[str, ...] = ()
    cancelled_orders: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    """Positions that could not be closed, with the reason (they stay open)."""


def bot_symbol(config: dict[str, Any]) -> str:
    """The pair a bot trades, for lists: a screener shows its first pairs."""
    if isinstance(config.get("symbols"), list):
        symbols = [str(s) for s in config["symbols"]]
        return ", ".join(symbols[:3]) + (f" +{len(symbols) - 3}" if len(symbols) > 3 else "")
    return str(config.get("symbol") or "")


def bot_view(bot: Bot) -> BotView:
    return BotView(
        id=bot.id,
        user_id=bot.user_id,
        name=bot.name,
        description=bot.description,
        type=bot.type,
        status=bot.status,
        symbol=bot_symbol(bot.config or {}),
        paper_trading=bot.paper_trading,
        config=dict(bot.config or {}),
        risk_settings=dict(bot.risk_settings or {}),
        created_at=bot.created_at,
        updated_at=bot.updated_at,
        started_at=bot.started_at,
        stopped_at=bot.stopped_at,
        last_execution_at=bot.last_execution_at,
        last_error=bot.last_error,
        error_count=bot.error_count,
    )


def execution_view(row: Execution) -> ExecutionView:
    return ExecutionView(
        id=row.id,
        execution_id=row.execution_id,
        signal=row.signal,
        confidence=row.confidence,
        reason=row.reason,
        price=row.price,
        indicators=dict(row.indicators or {}),
        status=row.status,
        error=row.error,
        timestamp=row.timestamp,
    )


def performance_view(row: PerformanceSnapshot) -> PerformanceView:
    return PerformanceView(
        timestamp=row.timestamp,
        total_trades=row.total_trades,
        win_rate=row.win_rate,
        total_return=row.total_return,
        total_return_percent=row.total_return_percent,
        max_drawdown_percent=row.max_drawdown_percent,
        sharpe_ratio=row.sharpe_ratio,
        profit_factor=row.profit_factor,
        risk_score=row.risk_score,
        rating=row.rating,
        metrics=dict(row.metrics or {}),
    )
