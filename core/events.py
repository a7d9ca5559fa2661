"""Events from the engine (and services) to every open dashboard.

Two legs, one shape:
- **in-process**: ``EventBus.publish`` hands an event to every local subscriber (a dashboard
  running the engine itself sees it at once);
- **across processes**: ``publish_in(session, event)`` adds ``pg_notify`` to the writer's own
  transaction, so PostgreSQL delivers it on commit only — a dashboard never hears of a change
  that was rolled back. ``PgListener`` keeps one LISTEN connection (a direct one: LISTEN needs a
  session, which PgBouncer in transaction mode can't give) and feeds what arrives into the bus.

Each process stamps its events with ``ORIGIN``; the listener drops its own process's echoes, so
an event published both ways reaches a local subscriber exactly once. Subscribers get bounded
queues: a slow screen loses its oldest events, it never slows the engine down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

CHANNEL = "blockbotx_events"
ORIGIN = uuid.uuid4().hex[:12]
NOTIFY_LIMIT = 7900  # PostgreSQL caps NOTIFY payloads at 8000 bytes


@dataclass(frozen=True, slots=True)
class Event:
    """``kind`` says what changed ("trade", "position", "bot", "notification", "engine", ...);
    ``user_id`` whose data it is (None: of interest to operators only); ``data`` is small and
    JSON-safe (ids and a few figures — subscribers re-read details through the services)."""

    kind: str
    user_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    origin: str = ORIGIN

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "kind": self.kind,
            "user_id": self.user_id,
            "data": self.data,
            "at": self.at.isoformat(),
            "origin": self.origin,
        }
        text = json.dumps(body, default=_json_default, separators=(",", ":"))
        if len(text.encode()) > NOTIFY_LIMIT:
            # Too big for NOTIFY: send the reference only; receivers reload by id.
            body["data"] = {k: v for k, v in self.data.items() if k.endswith("id")}
            body["data"]["truncated"] = True
            text = json.dumps(body, default=_json_default, separators=(",", ":"))
        return text

    @classmethod
    def from_json(cls, text: str) -> Event:
        raw = json.loads(text)
        return cls(
            kind=str(raw["kind"]),
            user_id=raw.get("user_id"),
            data=dict(raw.get("data") or {}),
            at=datetime.fromisoformat(raw["at"]),
            origin=str(raw.get("origin", "")),
        )


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact; never via float
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Subscription:
    """A bounded queue of events for one subscriber, optionally only one user's."""

    def __init__(
        self, bus: EventBus, user_id: str | None, kinds: frozenset[str] | None, size: int
    ) -> None:
        self._bus = bus
        self.user_id = user_id
        self.kinds = kinds
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        return self.user_id is None or event.user_id in (None, self.user_id)

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest: the newest state matters most
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._bus._subscriptions.discard(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(
        self,
        *,
        user_id: str | None = None,
        kinds: set[str] | frozenset[str] | None = None,
        size: int = 1000,
    ) -> Subscription:
        """``user_id=None`` sees every event (operators); otherwise that user's and global ones."""
        sub = Subscription(self, user_id, frozenset(kinds) if kinds else None, size)
        self._subscriptions.add(sub)
        return sub

    def publish(self, event: Event) -> None:
        for sub in list(self._subscriptions):
            if sub.wants(event):
                sub.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)


bus = EventBus()
"""The process-wide bus."""


async def publish_in(session: AsyncSession, event: Event, *, local: EventBus | None = None) -> None:
    """Publish ``event`` when ``session`` commits: NOTIFY for other processes, and (after the
    commit) the local bus for this one.

    Inside a SAVEPOINT, the local leg waits for the outermost commit (SQLAlchemy reports the
    release of a savepoint as a commit too, before the data is visible to anyone else), and is
    dropped if the savepoint or a transaction around it rolls back — as PostgreSQL drops the
    NOTIFY."""
    await session.execute(select(func.pg_notify(CHANNEL, event.to_json())))
    _publish_on_commit(session, [event], local or bus)


async def publish_all_in(
    session: AsyncSession, events: Sequence[Event], *, local: EventBus | None = None
) -> None:
    """``publish_in`` for many events with one statement (NOTIFY each, in order)."""
    if not events:
        return
    await session.execute(
        text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p"),
        {"channel": CHANNEL, "payloads": payloads_on_commit(session, events, local=local)},
    )


def payloads_on_commit(
    session: AsyncSession, events: Sequence[Event], *, local: EventBus | None = None
) -> list[str]:
    """``publish_all_in`` for a writer that sends the NOTIFY in a statement of its own (the
    engine's batched exits write everything in one): the payloads to NOTIFY on ``CHANNEL``, in
    order; the local subscribers get the events when the session commits."""
    if not events:
        return []
    _publish_on_commit(session, list(events), local or bus)
    return [event.to_json() for event in events]


def _publish_on_commit(session: AsyncSession, events: list[Event], target: EventBus) -> None:
    sync_session = session.sync_session
    registered = sync_session.get_nested_transaction() or sync_session.get_transaction()

    from sqlalchemy import event as sa_event

    loop = asyncio.get_running_loop()
    settled = False

    def _remove() -> None:
        for name, listener in (
            ("after_commit", _after_commit),
            ("after_soft_rollback", _after_rollback),
        ):
            with contextlib.suppress(Exception):
                sa_event.remove(sync_session, name, listener)

    def _forget() -> None:
        nonlocal settled
        settled = True
        loop.call_soon(_remove)  # not while SQLAlchemy is dispatching to these very listeners

    def _after_commit(committed: Any) -> None:
        if settled or committed.in_nested_transaction():
            return  # a savepoint was released; the real commit is still to come
        _forget()
        for event in events:
            target.publish(event)

    def _after_rollback(_session: Any, previous: Any) -> None:
        enclosing = registered
        while not settled and enclosing is not None:
            if enclosing is previous:
                _forget()
                return
            enclosing = enclosing.parent

    sa_event.listen(sync_session, "after_commit", _after_commit)
    sa_event.listen(sync_session, "after_soft_rollback", _after_rollback)


class PgListener:
    """LISTEN on ``CHANNEL`` over a direct asyncpg connection, reconnecting with backoff.

    Connection state changes are published as ``Event("connection", data={"state": ...})`` so a
    dashboard can show a reconnecting banner and clear it on its own.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        target: EventBus | None = None,
        *,
        max_backoff: float = 10.0,
    ) -> None:
        self._connect = connect
        self._bus = target or bus
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.received = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="blockbotx-pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = Event.from_json(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event payload on %s", CHANNEL)
            return
        if event.origin == ORIGIN:
            return  # already delivered in-process
        self.received += 1
        self._bus.publish(event)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            conn = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.connected.set()
                self._bus.publish(Event("connection", data={"state": "connected"}))
                delay = 0.5
                while not lost.is_set():
                    # A termination listener doesn't fire for a silently dead socket; probe.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=5)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), timeout=5)
            except asyncio.CancelledError:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
                raise
            except Exception as exc:  # connection refused, reset, timeouts: all mean retry
                log.warning("event listener lost the database (%s); retrying", exc)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
            if self.connected.is_set():
                self.connected.clear()
            self._bus.publish(Event("connection", data={"state": "reconnecting"}))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)
