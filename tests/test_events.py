"""Events reach dashboards once, on commit only, across processes, and survive a lost connection."""

import asyncio
from decimal import Decimal

from sqlalchemy import text

from core.db.engine import Database, connect_raw
from core.events import CHANNEL, Event, EventBus, PgListener, publish_in
from tests.waiting import wait_until


async def test_bus_filters_by_user_and_kind_and_drops_oldest() -> None:
    bus = EventBus()
    alice = bus.subscribe(user_id="alice", size=2)
    trades_only = bus.subscribe(kinds={"trade"})
    bus.publish(Event("trade", "bob", {"n": 1}))
    bus.publish(Event("trade", "alice", {"n": 2}))
    bus.publish(Event("engine", None, {"n": 3}))  # global: everyone who isn't filtering kinds
    bus.publish(Event("bot", "alice", {"n": 4}))
    assert alice.dropped == 1
    assert [(await alice.get()).data["n"] for _ in range(2)] == [3, 4]
    assert [(await trades_only.get()).data["n"] for _ in range(2)] == [1, 2]
    alice.close()
    assert bus.subscriber_count == 1


def test_payload_is_exact_and_bounded() -> None:
    event = Event("trade", "u", {"pnl": Decimal("0.100000000000000000000000000001"), "id": "t1"})
    back = Event.from_json(event.to_json())
    assert back.data["pnl"] == "0.100000000000000000000000000001"
    big = Event("trade", "u", {"trade_id": "t1", "blob": "x" * 10_000})
    slim = Event.from_json(big.to_json())
    assert slim.data == {"trade_id": "t1", "truncated": True}


async def test_publish_in_delivers_on_commit_only(db: Database) -> None:
    local = EventBus()
    sub = local.subscribe()
    listener_conn = await connect_raw(db.url)
    heard: list[str] = []
    await listener_conn.add_listener(CHANNEL, lambda *args: heard.append(args[3]))
    try:
        async with db.session() as s:
            await publish_in(s, Event("trade", "u1", {"id": "rolled-back"}), local=local)
            await s.rollback()
        async with db.session() as s:
            await publish_in(s, Event("trade", "u1", {"id": "kept"}), local=local)
            await s.commit()
        # NOTIFYs arrive in commit order: once "kept" is heard, a rolled-back one would have been
        await wait_until(lambda: bool(heard), what="the committed event")
    finally:
        await listener_conn.close()
    assert [Event.from_json(h).data["id"] for h in heard] == ["kept"]
    assert (await asyncio.wait_for(sub.get(), 30)).data["id"] == "kept"
    assert sub.queue.empty()


async def test_listener_skips_own_echo_and_reconnects(db: Database) -> None:
    local = EventBus()
    sub = local.subscribe(kinds={"trade", "connection"})
    listener = PgListener(lambda: connect_raw(db.url), local, max_backoff=0.5)
    listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        assert (await sub.get()).data["state"] == "connected"

        async def send(event: Event) -> None:
            async with db.session() as s:
                await s.execute(
                    text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": event.to_json()}
                )
                await s.commit()

        await send(Event("trade", "u", {"id": "mine"}))  # this process's own origin: skipped
        await send(Event("trade", "u", {"id": "theirs"}, origin="another-process"))
        assert (await asyncio.wait_for(sub.get(), 30)).data["id"] == "theirs"

        # Kill the LISTEN backend as a database restart would: the listener comes back by itself.
        async with db.session() as s:
            await s.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
            await s.commit()
        states = []
        while "connected" not in states[1:] and len(states) < 10:
            event = await asyncio.wait_for(sub.get(), 15)
            states.append(event.data.get("state"))
        assert states[0] == "reconnecting" and states[-1] == "connected"
        await send(Event("trade", "u", {"id": "after"}, origin="another-process"))
        assert (await asyncio.wait_for(sub.get(), 30)).data["id"] == "after"
    finally:
        await listener.stop()
