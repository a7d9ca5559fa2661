"""``engine_processes``: every running engine (headless or inside a dashboard) with a heartbeat
and the figures the engine screen shows; ``is_engine_alive`` tells a dashboard whether to run
the engine itself."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.engine import EngineProcess

ALIVE_SECONDS = 10.0


def version() -> str:
    try:
        return metadata.version("blockbotx")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Figures:
    bots_leased: int
    cycles_total: int
    cycles_per_second: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    errors_last_hour: int
    last_error: str | None
    stale_prices: tuple[str, ...] = ()
    """``feed symbol`` of every followed symbol without a fresh price."""


@dataclass(frozen=True, slots=True)
class ProcessView:
    id: str
    host: str
    pid: int
    version: str
    embedded: bool
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_age_seconds: float
    alive: bool
    bots_leased: int
    cycles_total: int
    cycles_per_second: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    errors_last_hour: int
    last_error: str | None
    stale_prices: tuple[str, ...]


async def register(
    session: AsyncSession, process_id: str, *, now: datetime, embedded: bool
) -> None:
    session.add(
        EngineProcess(
            id=process_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=version(),
            embedded=embedded,
            started_at=now,
            heartbeat_at=now,
            bots_leased=0,
            cycles_total=0,
            cycles_per_second=0.0,
            errors_last_hour=0,
        )
    )
    await session.flush()


async def heartbeat(
    session: AsyncSession, process_id: str, *, now: datetime, figures: Figures
) -> bool:
    """Refresh the heartbeat; False when the row is gone (pruned as dead): the caller registers
    again."""
    result = await session.execute(
        update(EngineProcess)
        .where(EngineProcess.id == process_id)
        .values(
            heartbeat_at=now,
            stopped_at=None,
            bots_leased=figures.bots_leased,
            cycles_total=figures.cycles_total,
            cycles_per_second=figures.cycles_per_second,
            latency_p50_ms=figures.latency_p50_ms,
            latency_p99_ms=figures.latency_p99_ms,
            errors_last_hour=figures.errors_last_hour,
            last_error=figures.last_error,
            stale_prices=list(figures.stale_prices) or None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_stopped(session: AsyncSession, process_id: str, *, now: datetime) -> None:
    await session.execute(
        update(EngineProcess)
        .where(EngineProcess.id == process_id)
        .values(stopped_at=now, bots_leased=0, heartbeat_at=now)
    )


async def list_processes(
    session: AsyncSession,
    *,
    now: datetime,
    alive_seconds: float = ALIVE_SECONDS,
    include_stopped: bool = False,
) -> list[ProcessView]:
    stmt = select(EngineProcess).order_by(EngineProcess.started_at, EngineProcess.id)
    if not include_stopped:
        stmt = stmt.where(EngineProcess.stopped_at.is_(None))
    out = []
    for row in await session.scalars(stmt):
        age = (now - row.heartbeat_at).total_seconds()
        out.append(
            ProcessView(
                id=row.id,
                host=row.host,
                pid=row.pid,
                version=row.version,
                embedded=row.embedded,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
                heartbeat_age_seconds=max(0.0, age),
                alive=row.stopped_at is None and age <= alive_seconds,
                bots_leased=row.bots_leased,
                cycles_total=row.cycles_total,
                cycles_per_second=row.cycles_per_second,
                latency_p50_ms=row.latency_p50_ms,
                latency_p99_ms=row.latency_p99_ms,
                errors_last_hour=row.errors_last_hour,
                last_error=row.last_error,
                stale_prices=tuple(row.stale_prices or ()),
            )
        )
    return out


async def is_engine_alive(
    db: Database, *, clock: Clock = SYSTEM_CLOCK, alive_seconds: float = ALIVE_SECONDS
) -> bool:
    """Whether some engine process (anywhere) has a fresh heartbeat."""
    now = clock.now()
    async with db.session() as session:
        found = await session.scalar(
            select(EngineProcess.id)
            .where(
                EngineProcess.stopped_at.is_(None),
                EngineProcess.heartbeat_at > now - timedelta(seconds=alive_seconds),
            )
            .limit(1)
        )
    return found is not None


async def prune(
    session: AsyncSession, *, now: datetime, keep: timedelta = timedelta(days=1)
) -> int:
    """Forget processes stopped or silent for longer than ``keep``."""
    result = await session.execute(
        delete(EngineProcess).where(EngineProcess.heartbeat_at < now - keep)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
