"""The exits process's own connection (``core.engine.exit_line``).

- In an exits-only process the batches share one connection: it is checked out of the pool
  (and pinged) once, not once per batch.
- A connection the server dropped — what a PostgreSQL restart does to every client — is
  replaced and the batch run again on the new one: the breached position is still closed.
- The garbage collector waits while a batch runs there (it runs once the exits are committed).
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import pytest
from sqlalchemy import event, select, text

from core.db.models.trading import Position
from core.engine.runner import EngineRunner
from tests.engine.test_exit_batch import breached, entered
from tests.waiting import wait_until


async def _backend(runner: EngineRunner) -> int:
    async with runner.watcher.line.session() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def _open(db: Any) -> int:
    async with db.session() as s:
        return len((await s.scalars(select(Position).where(Position.status == "open"))).all())


async def test_batches_share_one_connection_checked_out_once(db) -> None:  # type: ignore[no-untyped-def]
    w, _ids = await entered(db, [{"stop_loss_percent": p} for p in ("2", "3", "4")])
    runner = w.runner(exits_only=True)
    await runner.watcher.warm()
    first = await _backend(runner)
    checkouts: list[object] = []
    pool = db.engine.sync_engine.pool

    def checkout(*_args: object) -> None:
        checkouts.append(_args)

    try:
        for price in ("97.5", "96.5", "95.5"):  # one more stop each time
            found = await breached(w, runner, price)
            assert len(found) == 1
            event.listen(pool, "checkout", checkout)
            await runner.watcher.handle_all(found, w.clock.now())
            event.remove(pool, "checkout", checkout)
        assert runner.watcher.exits == 3
        assert runner.watcher.batches == 3
        assert checkouts == []  # no batch took a connection from the pool
        assert await _backend(runner) == first
        assert await _open(db) == 0
    finally:
        await runner.watcher.close()


async def test_a_dropped_connection_is_replaced_and_the_batch_run_again(  # type: ignore[no-untyped-def]
    db, caplog: pytest.LogCaptureFixture
) -> None:
    w, _ids = await entered(db, [{"stop_loss_percent": "2"}])
    runner = w.runner(exits_only=True)
    await runner.watcher.warm()
    first = await _backend(runner)
    async with db.session() as s:  # as a restart (or an administrator) ends every session
        assert await s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})

    async def gone() -> bool:
        async with db.session() as s:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            return await s.scalar(query, {"pid": first}) == 0

    await wait_until(gone, what="the server to end the exits' connection")
    found = await breached(w, runner, "97.5")
    assert len(found) == 1
    try:
        with caplog.at_level(logging.WARNING, logger="core.engine.exits"):
            await runner.watcher.handle_all(found, w.clock.now())
        assert runner.watcher.exits == 1
        assert await _open(db) == 0
        assert "connection broke" in caplog.text
        assert await _backend(runner) != first
    finally:
        await runner.watcher.close()


async def test_a_garbage_collection_waits_until_the_batch_is_committed(  # type: ignore[no-untyped-def]
    db, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.engine import exit_batch

    w, _ids = await entered(db, [{"stop_loss_percent": "2"}])
    runner = w.runner(exits_only=True)
    collector: list[bool] = []
    real = exit_batch.close_together

    async def close_together(*args: Any) -> exit_batch.Batched:
        collector.append(gc.isenabled())
        return await real(*args)

    monkeypatch.setattr(exit_batch, "close_together", close_together)
    found = await breached(w, runner, "97.5")
    try:
        assert gc.isenabled()
        await runner.watcher.handle_all(found, w.clock.now())
        assert collector == [False]  # off while the batch ran
        assert gc.isenabled()  # and on again once it was committed
        assert runner.watcher.exits == 1
    finally:
        await runner.watcher.close()
