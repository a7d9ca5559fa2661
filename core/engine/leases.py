"""Leasing due bots, and writing the results of many cycles in one statement.

Time is cut into slots of ``cycle_seconds`` aligned to the epoch, the same for every process.
A bot is *due* when it is active, its last cycle ran in an earlier slot (``last_execution_at``
before the current slot's start: the seed's ``[status, last_execution_at]`` index answers
that), its lease is free or expired, and it is not backing off. ``claim_due`` leases up to
``limit`` due bots in one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``:
concurrent processes skip each other's rows, so no bot is claimed twice.

A cycle's ``execution_id`` is ``<bot id>-<slot>``: unique per bot and slot, so a cycle written
twice for the same slot is refused by ``executions.execution_id``'s unique index. Every write
that finishes a cycle is fenced by the lease: ``lease_owner`` must still be this process, or the
cycle's results are dropped (the bot was stopped, or the lease expired and moved on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, DateTime, Integer, Numeric, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

ACTIVE = "active"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_of(moment: datetime, cycle_seconds: float) -> int:
    return int((moment - EPOCH).total_seconds() // cycle_seconds)


def slot_start(slot: int, cycle_seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=slot * cycle_seconds)


def execution_key(bot_id: str, slot: int) -> str:
    return f"{bot_id}-{slot}"


@dataclass(slots=True)
class LeasedBot:
    """A claimed bot, as the cycle needs it (plain values: nothing lazy)."""

    id: str
    user_id: str
    name: str
    type: str
    config: dict[str, Any]
    risk_settings: dict[str, Any]
    paper_trading: bool
    engine_state: dict[str, Any] | None
    updated_at: datetime
    error_count: int
    started_at: datetime | None
    slot: int

    @property
    def execution_id(self) -> str:
        return execution_key(self.id, self.slot)


_CLAIM = text(
    """
    UPDATE bots SET lease_owner = :owner, lease_until = :until
    WHERE id IN (
        SELECT id FROM bots
        WHERE status = 'active' AND type <> 'manual'
          AND (last_execution_at IS NULL OR last_execution_at < :slot_start)
          AND (lease_until IS NULL OR lease_until < :now OR lease_owner = :owner)
          AND (backoff_until IS NULL OR backoff_until <= :now)
        ORDER BY last_execution_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, user_id, name, type, config, risk_settings, paper_trading, engine_state,
              updated_at, error_count, started_at
    """
)


async def claim_due(
    session: AsyncSession,
    owner: str,
    *,
    now: datetime,
    cycle_seconds: float,
    lease_seconds: float,
    limit: int,
) -> list[LeasedBot]:
    slot = slot_of(now, cycle_seconds)
    rows = await session.execute(
        _CLAIM,
        {
            "owner": owner,
            "until": now + timedelta(seconds=lease_seconds),
            "slot_start": slot_start(slot, cycle_seconds),
            "now": now,
            "limit": limit,
        },
    )
    return [
        LeasedBot(
            id=r.id,
            user_id=r.user_id,
            name=r.name,
            type=r.type,
            config=r.config or {},
            risk_settings=r.risk_settings or {},
            paper_trading=r.paper_trading,
            engine_state=r.engine_state,
            updated_at=r.updated_at,
            error_count=r.error_count,
            started_at=r.started_at,
            slot=slot,
        )
        for r in rows
    ]


@dataclass(slots=True)
class CycleRow:
    """One finished cycle for the bulk write: its executions row and the bot's new state."""

    bot_id: str
    execution_id: str
    at: datetime
    signal: str
    confidence: Decimal
    reason: str
    price: Decimal
    indicators: dict[str, Any]
    status: str
    error: str | None
    error_count: int
    backoff_until: datetime | None


_TS = DateTime(timezone=True)
_FINISH = text(
    """
    WITH v AS (
        SELECT * FROM unnest(:bot_ids, :ats, :error_counts, :backoffs, :errors)
            AS v(id, at, error_count, backoff_until, error)
    ),
    done AS (
        UPDATE bots b SET last_execution_at = v.at, error_count = v.error_count,
                          backoff_until = v.backoff_until, last_error = v.error,
                          lease_owner = NULL, lease_until = NULL
        FROM v WHERE b.id = v.id AND b.lease_owner = :owner
        RETURNING b.id
    )
    INSERT INTO executions (id, bot_id, execution_id, signal, confidence, reason, price,
                            indicators, status, error, timestamp)
    SELECT e.id, e.bot_id, e.execution_id, e.signal, e.confidence, e.reason, e.price,
           e.indicators::jsonb, e.status, e.error, e.at
    FROM unnest(:ids, :bot_ids, :execution_ids, :signals, :confidences, :reasons, :prices,
                :indicators, :statuses, :errors, :ats)
        AS e(id, bot_id, execution_id, signal, confidence, reason, price, indicators, status,
             error, at)
    WHERE e.bot_id IN (SELECT id FROM done)
    ON CONFLICT (execution_id) DO NOTHING
    RETURNING bot_id
    """
).bindparams(
    bindparam("bot_ids", type_=ARRAY(String)),
    bindparam("ats", type_=ARRAY(_TS)),
    bindparam("error_counts", type_=ARRAY(Integer)),
    bindparam("backoffs", type_=ARRAY(_TS)),
    bindparam("errors", type_=ARRAY(String)),
    bindparam("ids", type_=ARRAY(String)),
    bindparam("execution_ids", type_=ARRAY(String)),
    bindparam("signals", type_=ARRAY(String)),
    bindparam("confidences", type_=ARRAY(Numeric(65, 30))),
    bindparam("reasons", type_=ARRAY(String)),
    bindparam("prices", type_=ARRAY(Numeric(65, 30))),
    bindparam("indicators", type_=ARRAY(String)),
    bindparam("statuses", type_=ARRAY(String)),
)


async def finish_cycles(
    session: AsyncSession, owner: str, rows: list[CycleRow], new_id
) -> set[str]:  # type: ignore[no-untyped-def]
    """Write many cycles at once and release their leases; returns the bots whose cycle was
    written (a bot whose lease this process lost is left out, and so is its row)."""
    if not rows:
        return set()
    written = await session.execute(
        _FINISH,
        {
            "owner": owner,
            "bot_ids": [r.bot_id for r in rows],
            "ats": [r.at for r in rows],
            "error_counts": [r.error_count for r in rows],
            "backoffs": [r.backoff_until for r in rows],
            "errors": [r.error for r in rows],
            "ids": [new_id() for _ in rows],
            "execution_ids": [r.execution_id for r in rows],
            "signals": [r.signal for r in rows],
            "confidences": [r.confidence for r in rows],
            "reasons": [r.reason for r in rows],
            "prices": [r.price for r in rows],
            "indicators": [json.dumps(r.indicators, separators=(",", ":")) for r in rows],
            "statuses": [r.status for r in rows],
        },
    )
    return set(written.scalars())


_RELEASE = text(
    "UPDATE bots SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :owner"
).bindparams()


async def release_all(session: AsyncSession, owner: str) -> int:
    """Give back every lease this process holds (on a clean stop)."""
    result = await session.execute(_RELEASE, {"owner": owner})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_RENEW = text(
    "UPDATE bots SET lease_until = :until WHERE lease_owner = :owner AND id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(String)))


async def renew(
    session: AsyncSession, owner: str, bot_ids: list[str], *, now: datetime, lease_seconds: float
) -> int:
    """Extend the leases of bots whose cycle is still running (a slow exchange)."""
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


async def due_queue(session: AsyncSession, *, now: datetime, cycle_seconds: float) -> DueQueue:
    start = slot_start(slot_of(now, cycle_seconds), cycle_seconds)
    row = (
        await session.execute(
            text(
                "SELECT count(*), min(last_execution_at) FROM bots WHERE status = 'active' "
                "AND type <> 'manual' AND (last_execution_at IS NULL OR last_execution_at < :s)"
            ),
            {"s": start},
        )
    ).one()
    count, oldest = row
    lag = None
    if count:
        due_since = start if oldest is None else oldest + timedelta(seconds=cycle_seconds)
        lag = max(0.0, (now - min(due_since, start)).total_seconds())
    return DueQueue(int(count), lag)
