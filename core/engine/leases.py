"""Leasing due bots, and writing the results of many cycles in one statement.

Time is cut into slots of ``cycle_seconds`` aligned to the epoch, the same for every process.
A bot is *due* when it is active, its last cycle ran in an earlier slot (``last_execution_at``
before the current slot's start: the seed's ``[status, last_execution_at]`` index answers
that), its lease is free or expired, and it is not backing off. ``claim_due`` leases up to
``limit`` due bots in one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``:
concurrent processes skip each other's rows, so no bot is claimed twice.

A bot runs the slot after its last one (``last_execution_at`` holds that slot's start), so an
engine that falls behind — a busy machine, a killed process whose leases must expire first, a
database restart — runs the missed slots afterwards, each once; a bot more than ``catch_up_slots``
behind restarts at the current slot. A cycle's ``execution_id`` is ``<bot id>-<slot>``: unique
per bot and slot, so a cycle written twice for the same slot is refused by
``executions.execution_id``'s unique index. Every write
that finishes a cycle is fenced by the lease: ``lease_owner`` must still be this process, or the
cycle's results are dropped (the bot was stopped, or the lease expired and moved on).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

ACTIVE = "active"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_MICRO = timedelta(microseconds=1)


def _width(cycle_seconds: float) -> int:
    return max(1, round(cycle_seconds * 1_000_000))


def slot_of(moment: datetime, cycle_seconds: float) -> int:
    """The slot holding ``moment`` (integer microseconds: no float drift at slot edges)."""
    return ((moment - EPOCH) // _MICRO) // _width(cycle_seconds)


def slot_start(slot: int, cycle_seconds: float) -> datetime:
    return EPOCH + _MICRO * (slot * _width(cycle_seconds))


def next_slot(last_run: datetime | None, now: datetime, cycle_seconds: float, catch_up: int) -> int:
    """The slot a due bot runs now: the one after its last, so a late or interrupted engine
    runs every slot once; a bot more than ``catch_up`` slots behind (after an outage, or never
    run) starts at the current slot instead."""
    current = slot_of(now, cycle_seconds)
    if last_run is None:
        return current
    following = slot_of(last_run, cycle_seconds) + 1
    return following if current - following <= catch_up else current


def execution_key(bot_id: str, slot: int) -> str:
    return f"{bot_id}-{slot}"


@dataclass(slots=True)
class LeasedBot:
    """A claimed bot, as the cycle needs it (plain values: nothing lazy). ``config`` and
    ``risk_settings`` are filled by ``load_settings`` only for bots whose row changed since the
    process last parsed them (the claim itself returns no JSON settings)."""

    id: str
    user_id: str
    type: str
    paper_trading: bool
    engine_state: dict[str, Any] | None
    updated_at: datetime
    error_count: int
    started_at: datetime | None
    slot: int
    slot_at: datetime  # the slot's start: ``last_execution_at`` once the cycle is written
    config: dict[str, Any] | None = None
    risk_settings: dict[str, Any] | None = None
    paper_market: str | None = None
    """Filled by ``load_settings`` with the config: the paper wallet's exchange, if any."""

    @property
    def execution_id(self) -> str:
        return execution_key(self.id, self.slot)


# Driver-level SQL ($n parameters, values passed as asyncpg encodes them): these run once per
# batch of hundreds of bots, and SQLAlchemy's per-element bind processing of arrays would cost
# more than the statements themselves.
_CLAIM = """
    WITH due AS MATERIALIZED (
        SELECT id, last_execution_at FROM bots
        WHERE status = 'active' AND type <> 'manual'
          AND (last_execution_at IS NULL OR last_execution_at < $3)
          AND (lease_until IS NULL OR lease_until < $4)
          AND (backoff_until IS NULL OR backoff_until <= $4)
        ORDER BY last_execution_at
        LIMIT $5
        FOR UPDATE SKIP LOCKED
    )
    UPDATE bots b SET lease_owner = $1, lease_until = $2
    FROM due WHERE b.id = due.id
    RETURNING b.id, b.user_id, b.type, b.paper_trading, b.engine_state::text, b.updated_at,
              b.error_count, b.started_at, due.last_execution_at
"""


async def claim_due(
    session: AsyncSession,
    owner: str,
    *,
    now: datetime,
    cycle_seconds: float,
    lease_seconds: float,
    limit: int,
    catch_up: int = 30,
) -> list[LeasedBot]:
    """Lease up to ``limit`` due bots whose lease is free or expired, each with its slot."""
    current_start = slot_start(slot_of(now, cycle_seconds), cycle_seconds)
    conn = await session.connection()
    # raw driver rows, in the order of _CLAIM's RETURNING list
    rows: list[Any] = list(
        await conn.exec_driver_sql(
            _CLAIM, (owner, now + timedelta(seconds=lease_seconds), current_start, now, limit)
        )
    )
    out = []
    for r in rows:
        slot = next_slot(r[8], now, cycle_seconds, catch_up)
        out.append(
            LeasedBot(
                id=r[0],
                user_id=r[1],
                type=r[2],
                paper_trading=r[3],
                engine_state=json.loads(r[4]) if r[4] else None,
                updated_at=r[5],
                error_count=r[6],
                started_at=r[7],
                slot=slot,
                slot_at=slot_start(slot, cycle_seconds),
            )
        )
    return out


async def load_settings(session: AsyncSession, bots: list[LeasedBot]) -> None:
    """Fill in the config, risk settings and paper market of these bots (one query)."""
    if not bots:
        return
    conn = await session.connection()
    rows: list[Any] = list(
        await conn.exec_driver_sql(
            "SELECT b.id, b.config::text, b.risk_settings::text, w.paper_market FROM bots b "
            "LEFT JOIN bot_wallets w ON w.bot_id = b.id AND w.wallet_type = 'simulation' "
            "WHERE b.id = ANY($1::text[])",
            ([b.id for b in bots],),
        )
    )
    found = {r[0]: (json.loads(r[1]), json.loads(r[2]), r[3]) for r in rows}
    for bot in bots:
        bot.config, bot.risk_settings, bot.paper_market = found.get(bot.id, ({}, {}, None))


@dataclass(slots=True)
class CycleRow:
    """One finished cycle for the bulk write: its executions row and the bot's new state."""

    bot_id: str
    execution_id: str
    slot_at: datetime  # becomes bots.last_execution_at
    at: datetime  # when the cycle ran: executions.timestamp
    signal: str
    confidence: Decimal
    reason: str
    price: Decimal
    indicators: str  # JSON text
    status: str
    error: str | None
    error_count: int
    backoff_until: datetime | None


_FINISH = """
    WITH done AS (
        UPDATE bots b SET last_execution_at = v.slot_at, error_count = v.error_count,
                          backoff_until = v.backoff_until, last_error = v.error,
                          lease_owner = NULL, lease_until = NULL
        FROM unnest($2::text[], $15::timestamptz[], $4::int[], $5::timestamptz[], $6::text[])
            AS v(id, slot_at, error_count, backoff_until, error)
        WHERE b.id = v.id AND b.lease_owner = $1
        RETURNING b.id
    )
    INSERT INTO executions (id, bot_id, execution_id, signal, confidence, reason, price,
                            indicators, status, error, timestamp)
    SELECT e.id, e.bot_id, e.execution_id, e.signal, e.confidence, e.reason, e.price,
           e.indicators::jsonb, e.status, e.error, e.at
    FROM unnest($7::text[], $2::text[], $8::text[], $9::text[], $10::numeric[], $11::text[],
                $12::numeric[], $13::text[], $14::text[], $6::text[], $3::timestamptz[])
        AS e(id, bot_id, execution_id, signal, confidence, reason, price, indicators, status,
             error, at)
    WHERE e.bot_id IN (SELECT id FROM done)
    ON CONFLICT (execution_id) DO NOTHING
    RETURNING bot_id
"""


async def finish_cycles(
    session: AsyncSession, owner: str, rows: list[CycleRow], new_id: Callable[[], str]
) -> set[str]:
    """Write many cycles at once and release their leases; returns the bots whose cycle was
    written (a bot whose lease this process lost is left out, and so is its row)."""
    if not rows:
        return set()
    rows = sorted(rows, key=lambda r: r.bot_id)  # one lock order for every writer
    conn = await session.connection()
    written = await conn.exec_driver_sql(
        _FINISH,
        (
            owner,
            [r.bot_id for r in rows],
            [r.at for r in rows],
            [r.error_count for r in rows],
            [r.backoff_until for r in rows],
            [r.error for r in rows],
            [new_id() for _ in rows],
            [r.execution_id for r in rows],
            [r.signal for r in rows],
            [r.confidence for r in rows],
            [r.reason for r in rows],
            [r.price for r in rows],
            [r.indicators for r in rows],
            [r.status for r in rows],
            [r.slot_at for r in rows],
        ),
    )
    return {r[0] for r in written}


_RELEASE = text(
    "UPDATE bots SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :owner"
).bindparams()


async def release_all(session: AsyncSession, owner: str) -> int:
    """Give back every lease this process holds (on a clean stop)."""
    result = await session.execute(_RELEASE, {"owner": owner})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_RELEASE_SOME = text(
    "UPDATE bots SET lease_owner = NULL, lease_until = NULL "
    "WHERE lease_owner = :owner AND id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(String)))


async def release(session: AsyncSession, owner: str, bot_ids: list[str]) -> int:
    """Give back the leases of a batch that failed half-way (nothing of it was committed)."""
    if not bot_ids:
        return 0
    result = await session.execute(_RELEASE_SOME, {"owner": owner, "ids": bot_ids})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_RENEW = text(
    """
    WITH mine AS MATERIALIZED (
        SELECT id FROM bots WHERE lease_owner = :owner AND id = ANY(:ids)
        ORDER BY id FOR UPDATE SKIP LOCKED
    )
    UPDATE bots b SET lease_until = :until FROM mine WHERE b.id = mine.id
    """
).bindparams(bindparam("ids", type_=ARRAY(String)))


async def renew(
    session: AsyncSession, owner: str, bot_ids: list[str], *, now: datetime, lease_seconds: float
) -> int:
    """Extend the leases of bots whose cycle is still running (a slow exchange). Rows another
    transaction holds are skipped, never waited for: that transaction is finishing them."""
    if not bot_ids:
        return 0
    result = await session.execute(
        _RENEW, {"owner": owner, "ids": bot_ids, "until": now + timedelta(seconds=lease_seconds)}
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DueQueue:
    due: int
    """Active bots whose cycle for the current slot has not run yet."""
    oldest_lag_seconds: float | None
    """How far behind the most overdue bot is (since its slot should have run)."""


async def due_queue(
    session: AsyncSession, *, now: datetime, cycle_seconds: float, user_id: str | None = None
) -> DueQueue:
    """The queue of due bots (everyone's, or one user's) and how far behind the oldest is."""
    start = slot_start(slot_of(now, cycle_seconds), cycle_seconds)
    mine = "" if user_id is None else " AND user_id = :user"
    row = (
        await session.execute(
            text(
                "SELECT count(*), min(last_execution_at) FROM bots WHERE status = 'active' "
                "AND type <> 'manual' AND (last_execution_at IS NULL OR last_execution_at < :s)"
                + mine
            ),
            {"s": start, "user": user_id},
        )
    ).one()
    count, oldest = row
    lag = None
    if count:
        due_since = start if oldest is None else oldest + timedelta(seconds=cycle_seconds)
        lag = max(0.0, (now - min(due_since, start)).total_seconds())
    return DueQueue(int(count), lag)
