"""Periodic jobs the engine runs for the services (billing renewals, cached analytics, expired
exports), handed to it by whoever starts it (the engine must not import the services).

Each job runs when its interval has passed on the engine's clock, while this process holds a
transaction-level advisory lock on a connection of its own, so with several engines one runs
a job at a time and the others skip it (the jobs are idempotent, so a second run later changes
nothing). A transaction-level lock, not a session one, so it also holds behind PgBouncer in
transaction mode.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from core.clock import Clock
from core.db.engine import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """``run(clock)`` every ``every``; ``lock`` is its advisory-lock key (unique per job)."""

    name: str
    lock: int
    every: timedelta
    run: Callable[[Clock], Awaitable[object]]


@dataclass
class PeriodicRunner:
    """Runs each job when it is due; remembers when this process last ran each."""

    db: Database
    jobs: Sequence[PeriodicJob]
    clock: Clock
    last_run: dict[str, datetime] = field(default_factory=dict)

    async def run_due(self) -> dict[str, object]:
        """Run the jobs that are due; returns what each one that ran returned. A job that
        fails is logged and tried again at its next interval; the others still run."""
        done: dict[str, object] = {}
        for job in self.jobs:
            now = self.clock.now()
            last = self.last_run.get(job.name)
            if last is not None and now - last < job.every:
                continue
            self.last_run[job.name] = now
            try:
                ran, outcome = await run_locked(self.db, job, self.clock)
            except Exception as exc:
                log.warning("engine periodic job %s failed: %s", job.name, exc)
                continue
            if ran:
                done[job.name] = outcome
        return done


async def run_locked(db: Database, job: PeriodicJob, clock: Clock) -> tuple[bool, object]:
    """Run ``job`` if no other process is running it: (False, None) when one is."""
    async with db.engine.connect() as conn, conn.begin():
        held = await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": job.lock})
        if not held:
            return False, None
        outcome = await job.run(clock)
        log.info("engine periodic job %s: %s", job.name, outcome)
        return True, outcome
