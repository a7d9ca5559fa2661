"""What the bot engine is doing, for the engine screen (read-only).

Processes come from ``engine_processes`` (each engine writes its heartbeat and figures there);
the queue is the bots that are *due*: active, not manual, and whose last cycle ran before the
current slot. Slots are ``cycle_seconds`` long and aligned to the epoch, as the engine cuts
time, so a bot became due at the start of the slot after its last cycle (or when it was
started, if it never ran). Its **lag** is how long ago that was — or, for a bot backing off
after exchange failures, how long ago its back-off ended. A due bot is *leased* while an engine
holds it (its cycle is in flight), *backing off* until ``backoff_until``, else *waiting*.

Administrators see every process with its figures and every due bot. Other users see only their
own bots: the processes' liveness (host, pid, start, heartbeat) and how many of *their* bots each
holds, but not the engine-wide figures (rates, latencies, errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import Bot
from core.db.models.users import User
from core.engine import leases, registry
from core.errors import InvalidInput
from core.services.actor import Actor, recheck

MAX_QUEUE = 500


@dataclass(frozen=True, slots=True)
class ProcessStatus:
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
    """The active bots whose cycle it has in flight now, read from the bots' leases at the
    same moment as ``EngineStatus.in_cycle`` (all of them for administrators, the viewer's own
    for other users): the column adds up to that figure."""
    cycles_per_second: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    errors_last_hour: int | None
    last_error: str | None
    """Engine-wide figures are None for users who aren't administrators."""
    stale_prices: tuple[str, ...] = ()
    """``feed symbol`` it has no fresh price for: bots on them wait."""


@dataclass(frozen=True, slots=True)
class QueuedBot:
    id: str
    name: str
    owner: str | None
    """The owner's email (administrators only)."""
    type: str
    state: str
    """``waiting``, ``leased`` (cycle in flight) or ``backoff``."""
    due_since: datetime
    lag_seconds: float
    lease_owner: str | None
    backoff_until: datetime | None
    error_count: int


@dataclass(frozen=True, slots=True)
class EngineStatus:
    as_of: datetime
    cycle_seconds: float
    processes: tuple[ProcessStatus, ...]
    queue: tuple[QueuedBot, ...]
    """The most lagging due bots first (at most ``limit``)."""
    active_bots: int
    in_cycle: int
    """Active bots whose cycle an engine has in flight now (the processes' counts summed)."""
    due: int
    leased: int
    backing_off: int

    @property
    def alive(self) -> tuple[ProcessStatus, ...]:
        return tuple(p for p in self.processes if p.alive)

    @property
    def stale_prices(self) -> tuple[str, ...]:
        """Every ``feed symbol`` a live process has no fresh price for."""
        return tuple(sorted({s for p in self.alive for s in p.stale_prices}))

    @property
    def max_lag_seconds(self) -> float:
        return max((b.lag_seconds for b in self.queue if b.state != "backoff"), default=0.0)


def current_slot_start(moment: datetime, cycle_seconds: float) -> datetime:
    """The start of the slot ``moment`` falls in (the engine's own slot arithmetic)."""
    return leases.slot_start(leases.slot_of(moment, cycle_seconds), cycle_seconds)


def due_since(
    last_execution_at: datetime | None,
    started_at: datetime | None,
    created_at: datetime,
    backoff_until: datetime | None,
    cycle_seconds: float,
) -> datetime:
    """When a due bot could first have run: the slot after its last cycle (or its start),
    pushed back to the end of a back-off."""
    if last_execution_at is not None:
        since = current_slot_start(last_execution_at, cycle_seconds) + timedelta(
            seconds=cycle_seconds
        )
    else:
        since = started_at or created_at
    if backoff_until is not None and backoff_until > since:
        since = backoff_until
    return since


async def engine_status(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    cycle_seconds: float,
    alive_seconds: float = registry.ALIVE_SECONDS,
    limit: int = 100,
) -> EngineStatus:
    if not 1 <= limit <= MAX_QUEUE:
        raise InvalidInput(f"limit must be between 1 and {MAX_QUEUE}.", field="limit")
    if cycle_seconds <= 0:
        raise InvalidInput("cycle_seconds must be more than zero.", field="cycle_seconds")
    actor = await recheck(session, actor)  # everyone's bots only for who is staff now
    admin = actor.is_admin
    current = current_slot_start(now, cycle_seconds)
    mine = [] if admin else [Bot.user_id == actor.user_id]
    runnable = and_(Bot.status == "active", Bot.type != "manual", *mine)
    due = and_(runnable, or_(Bot.last_execution_at.is_(None), Bot.last_execution_at < current))
    leased = and_(Bot.lease_owner.is_not(None), Bot.lease_until > now)
    backing_off = and_(Bot.backoff_until.is_not(None), Bot.backoff_until > now)

    counts = (
        await session.execute(
            select(
                func.count().filter(runnable),
                func.count().filter(due),
                func.count().filter(and_(due, leased)),
                func.count().filter(and_(due, backing_off, ~leased)),
            ).select_from(Bot)
        )
    ).one()

    processes = await _processes(session, actor, now, alive_seconds, and_(runnable, leased))
    queue = await _queue(session, admin, due, now, cycle_seconds, limit)
    return EngineStatus(
        as_of=now,
        cycle_seconds=cycle_seconds,
        processes=processes,
        queue=queue,
        active_bots=int(counts[0]),
        in_cycle=sum(p.bots_leased for p in processes),
        due=int(counts[1]),
        leased=int(counts[2]),
        backing_off=int(counts[3]),
    )


async def _processes(
    session: AsyncSession, actor: Actor, now: datetime, alive_seconds: float, leased: Any
) -> tuple[ProcessStatus, ...]:
    rows = await registry.list_processes(session, now=now, alive_seconds=alive_seconds)
    admin = actor.is_admin
    held: dict[str, int] = {}
    if rows:  # ``leased`` holds the viewer's scope: every bot for staff, else their own
        held = {
            owner: count
            for owner, count in (
                await session.execute(
                    select(Bot.lease_owner, func.count()).where(leased).group_by(Bot.lease_owner)
                )
            ).all()
            if owner is not None
        }
    return tuple(
        ProcessStatus(
            id=p.id,
            host=p.host,
            pid=p.pid,
            version=p.version,
            embedded=p.embedded,
            started_at=p.started_at,
            heartbeat_at=p.heartbeat_at,
            heartbeat_age_seconds=p.heartbeat_age_seconds,
            alive=p.alive,
            bots_leased=int(held.get(p.id, 0)),
            cycles_per_second=p.cycles_per_second if admin else None,
            latency_p50_ms=p.latency_p50_ms if admin else None,
            latency_p99_ms=p.latency_p99_ms if admin else None,
            errors_last_hour=p.errors_last_hour if admin else None,
            last_error=p.last_error if admin else None,
            stale_prices=p.stale_prices,
        )
        for p in rows
    )


def _lag_order(bot: QueuedBot) -> tuple[bool, float]:
    return (bot.state == "backoff", -bot.lag_seconds)


async def _queue(
    session: AsyncSession,
    admin: bool,
    due: Any,
    now: datetime,
    cycle_seconds: float,
    limit: int,
) -> tuple[QueuedBot, ...]:
    # Most lagging first: never-run bots by their start, the others by their last cycle.
    since = func.coalesce(Bot.last_execution_at, Bot.started_at, Bot.created_at)
    owner = User.email if admin else null().label("owner")
    stmt = (
        select(Bot, owner)
        .join(User, User.id == Bot.user_id)
        .where(due)
        .order_by(since, Bot.id)
        .limit(limit)
    )
    out = []
    for bot, email in (await session.execute(stmt)).all():
        in_flight = (
            bot.lease_owner is not None and bot.lease_until is not None and bot.lease_until > now
        )
        backoff = bot.backoff_until is not None and bot.backoff_until > now
        start = due_since(bot.last_execution_at, bot.started_at, bot.created_at,
                          bot.backoff_until, cycle_seconds)  # fmt: skip
        out.append(
            QueuedBot(
                id=bot.id,
                name=bot.name,
                owner=email,
                type=bot.type,
                state="leased" if in_flight else "backoff" if backoff else "waiting",
                due_since=start,
                lag_seconds=max(0.0, (now - start).total_seconds()),
                lease_owner=bot.lease_owner if in_flight else None,
                backoff_until=bot.backoff_until if backoff else None,
                error_count=bot.error_count,
            )
        )
    return tuple(sorted(out, key=_lag_order))  # most lagging first, backing off last
