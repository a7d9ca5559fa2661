"""Dashboards re-read the database when an event arrives, so the local leg of ``publish_in``
must wait for the commit that makes the change visible — also inside a SAVEPOINT."""

from __future__ import annotations

from sqlalchemy import text

from core.db.engine import Database
from core.events import Event, EventBus, publish_in


async def test_an_event_in_a_savepoint_waits_for_the_outer_commit(db: Database) -> None:
    local = EventBus()
    heard = local.subscribe()
    async with db.sessions.begin() as session:
        async with session.begin_nested():
            await publish_in(session, Event("trade", "u1", {"n": 1}), local=local)
        assert heard.queue.empty()  # released savepoint: not committed yet
        await session.execute(text("SELECT 1"))
    assert heard.queue.get_nowait().data == {"n": 1}
    assert heard.queue.empty()


async def test_an_event_in_a_rolled_back_savepoint_is_dropped(db: Database) -> None:
    local = EventBus()
    heard = local.subscribe()
    async with db.sessions.begin() as session:
        kept = session.begin_nested()
        await kept.start()
        await publish_in(session, Event("trade", "u1", {"n": "kept"}), local=local)
        await kept.commit()
        dropped = session.begin_nested()
        await dropped.start()
        await publish_in(session, Event("trade", "u1", {"n": "dropped"}), local=local)
        await dropped.rollback()
    assert [heard.queue.get_nowait().data["n"]] == ["kept"] and heard.queue.empty()


async def test_a_rolled_back_transaction_publishes_nothing(db: Database) -> None:
    local = EventBus()
    heard = local.subscribe()
    async with db.sessions() as session, session.begin():
        await publish_in(session, Event("trade", "u1", {}), local=local)
        await session.rollback()
    assert heard.queue.empty()
