"""The engine screen's read service: processes and the due queue, admins vs. owners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.engine import EngineProcess
from core.errors import InvalidInput
from core.services.actor import Role
from core.services.engine_status import due_since, engine_status
from tests.service_users import add_user

NOW = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)  # 5 s into a 10 s slot
CYCLE = 10.0


async def _seed(db: Database):  # type: ignore[no-untyped-def]
    root = await add_user(db, "root@example.com", role=Role.ADMIN)
    ann = await add_user(db, "ann@example.com")
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        s.add_all([
            EngineProcess(id="p1", host="h1", pid=1, version="v", started_at=NOW - timedelta(hours=1),
                          heartbeat_at=NOW - timedelta(seconds=2), bots_leased=2, cycles_per_second=3.5,
                          latency_p50_ms=10.0, latency_p99_ms=90.0, errors_last_hour=4, last_error="boom"),
            EngineProcess(id="p2", host="h2", pid=2, version="v", started_at=NOW - timedelta(hours=1),
                          heartbeat_at=NOW - timedelta(seconds=60)),
            EngineProcess(id="p3", host="h3", pid=3, version="v", started_at=NOW - timedelta(hours=2),
                          heartbeat_at=NOW - timedelta(hours=1), stopped_at=NOW - timedelta(hours=1)),
        ])  # fmt: skip

        def bot(id_: str, user, **kw):  # type: ignore[no-untyped-def]
            fields = dict(status="active", type="grid", config={}, risk_settings={},
                          created_at=NOW - timedelta(days=1), started_at=NOW - timedelta(minutes=5))  # fmt: skip
            fields.update(kw)
            return Bot(id=id_, user_id=user.user_id, name=id_, **fields)

        s.add_all([
            # ran in the current slot: not due
            bot("fresh", ann, last_execution_at=NOW - timedelta(seconds=3)),
            # last ran two slots ago: due since the start of the previous slot (15 s lag)
            bot("late", ann, last_execution_at=NOW - timedelta(seconds=20)),
            # due and leased by p1: its cycle is in flight
            bot("running", bob, last_execution_at=NOW - timedelta(seconds=9), lease_owner="p1",
                lease_until=NOW + timedelta(seconds=10)),
            # never ran: due since it started
            bot("new", bob),
            # backing off after failures, for 30 s more
            bot("backoff", ann, backoff_until=NOW + timedelta(seconds=30), error_count=2,
                last_execution_at=NOW - timedelta(minutes=2)),
            # not runnable
            bot("paused", ann, status="paused", last_execution_at=NOW - timedelta(hours=1)),
            bot("manual", ann, type="manual"),
        ])  # fmt: skip
    return root, ann, bob


async def test_admin_sees_everything(db: Database) -> None:
    root, _ann, _bob = await _seed(db)
    async with db.session() as s:
        st = await engine_status(s, root, now=NOW, cycle_seconds=CYCLE)
    assert [p.id for p in st.processes] == ["p1", "p2"]  # stopped ones are gone
    p1, p2 = st.processes
    assert p1.alive and not p2.alive
    assert p1.heartbeat_age_seconds == 2.0
    # its heartbeat said 2 a moment ago; the bots' leases say what it holds now, as the header
    assert (p1.bots_leased, p1.cycles_per_second, p1.latency_p99_ms, p1.errors_last_hour) == (
        1, 3.5, 90.0, 4,
    )  # fmt: skip
    assert (st.active_bots, st.due, st.leased, st.backing_off) == (5, 4, 1, 1)
    assert st.in_cycle == sum(p.bots_leased for p in st.processes) == 1
    order = [(b.id, b.state, b.lag_seconds) for b in st.queue]
    assert order == [
        ("new", "waiting", 300.0),
        ("late", "waiting", 15.0),
        ("running", "leased", 5.0),
        ("backoff", "backoff", 0.0),
    ]
    assert {b.owner for b in st.queue} == {"ann@example.com", "bob@example.com"}
    assert st.max_lag_seconds == 300.0


async def test_a_user_sees_only_their_bots_and_no_engine_wide_figures(db: Database) -> None:
    _root, ann, bob = await _seed(db)
    async with db.session() as s:
        mine = await engine_status(s, ann, now=NOW, cycle_seconds=CYCLE)
        theirs = await engine_status(s, bob, now=NOW, cycle_seconds=CYCLE)
    assert {b.id for b in mine.queue} == {"late", "backoff"}
    assert all(b.owner is None for b in mine.queue)
    assert (mine.active_bots, mine.due) == (3, 2)
    p1 = mine.processes[0]
    assert p1.bots_leased == 0  # p1 holds bob's bot, not ann's
    assert (p1.cycles_per_second, p1.latency_p50_ms, p1.errors_last_hour, p1.last_error) == (
        None, None, None, None,
    )  # fmt: skip
    assert theirs.processes[0].bots_leased == 1


def test_due_since_is_the_slot_after_the_last_cycle_or_the_end_of_a_backoff() -> None:
    last = datetime(2026, 1, 1, 12, 0, 3, tzinfo=UTC)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    assert due_since(last, None, created, None, 10) == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    later = datetime(2026, 1, 1, 12, 1, tzinfo=UTC)
    assert due_since(last, None, created, later, 10) == later
    assert due_since(None, None, created, None, 10) == created


async def test_bad_arguments_are_refused(db: Database) -> None:
    root, _ann, _bob = await _seed(db)
    async with db.session() as s:
        with pytest.raises(InvalidInput):
            await engine_status(s, root, now=NOW, cycle_seconds=CYCLE, limit=0)
        with pytest.raises(InvalidInput):
            await engine_status(s, root, now=NOW, cycle_seconds=0)
