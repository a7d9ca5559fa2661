"""The bot engine's own tables (revision 0005): running engine processes and the daily
aggregates old HOLD executions are folded into."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Float, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, fk, id_column


class EngineProcess(Base):
    """One ``blockbotx engine`` process (or a dashboard running the engine), with its heartbeat
    and figures for the engine screen. Latencies and rates are measurements, not money."""

    __tablename__ = "engine_processes"
    __table_args__ = (Index(None, "heartbeat_at"),)

    id: Mapped[str] = id_column()
    host: Mapped[str]
    pid: Mapped[int]
    version: Mapped[str]
    embedded: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    bots_leased: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    cycles_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    cycles_per_second: Mapped[float] = mapped_column(Float, default=0, server_default=text("0"))
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float)
    errors_last_hour: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None]
    stale_prices: Mapped[list[str] | None]
    """``feed symbol`` of each followed symbol without a fresh price (revision 0016)."""


class ExecutionDaily(Base):
    """HOLD executions of one bot and UTC day, folded together once they are past retention."""

    __tablename__ = "execution_daily"
    __table_args__ = (UniqueConstraint("bot_id", "day"),)

    id: Mapped[str] = id_column()
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    day: Mapped[date]
    holds: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    errors: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


__all__ = ["EngineProcess", "ExecutionDaily"]
