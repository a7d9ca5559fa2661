"""The full garbage collection waits for the user's pause (tui.idle_gc); the app collects when
idle and reclaims what it froze at sign-out."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.db.engine import Database
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import dashboard, trader
from tui import idle_gc
from tui.idle_gc import IdleCollector
from tui.screens.login import LoginScreen
from tui.screens.overview import OverviewScreen


class Timers:
    """What ``start`` asks of the app: an interval timer, recorded."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, Callable[[], None]]] = []

    def set_interval(self, interval: float, callback: Callable[[], None], *, name: str) -> None:
        self.intervals.append((interval, callback))


@pytest.fixture
def collector() -> Iterator[IdleCollector]:
    before = gc.get_threshold()
    it = IdleCollector()
    timers = Timers()
    it.start(timers)  # type: ignore[arg-type]
    assert timers.intervals == [(idle_gc.CHECK, it.check)]
    yield it
    it.stop()
    assert gc.get_threshold() == before
    gc.unfreeze()


def young_collections(count: int) -> None:
    for _ in range(count):
        gc.collect(1)  # each one counts towards the next full collection


def test_no_automatic_full_collection_while_running(collector: IdleCollector) -> None:
    assert gc.get_threshold()[2] == idle_gc.NEVER


def test_a_busy_user_defers_the_full_collection(collector: IdleCollector) -> None:
    young_collections(idle_gc.USUAL)
    collector.touched()
    collector.check()
    assert gc.get_count()[2] >= idle_gc.USUAL
    assert not collector.frozen


def test_a_pause_runs_it_and_freezes_the_survivors(collector: IdleCollector) -> None:
    young_collections(idle_gc.USUAL)
    collector.last_input = time.monotonic() - idle_gc.IDLE
    frozen = gc.get_freeze_count()
    collector.check()
    assert gc.get_count()[2] == 0
    assert collector.frozen
    assert gc.get_freeze_count() > frozen


def test_too_much_pending_runs_it_however_busy(collector: IdleCollector) -> None:
    young_collections(idle_gc.FORCE)
    collector.touched()
    collector.check()
    assert gc.get_count()[2] == 0


def test_reclaim_collects_what_was_frozen(collector: IdleCollector) -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    young_collections(idle_gc.USUAL)
    collector.last_input = time.monotonic() - idle_gc.IDLE
    cycle = Cycle()
    collector.check()  # frozen alive...
    assert collector.frozen
    del cycle  # ...then garbage, in a cycle: only an unfrozen collection finds it
    found: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            found.append(info["collected"])

    gc.callbacks.append(count)
    try:
        collector.reclaim()
    finally:
        gc.callbacks.remove(count)
    assert not collector.frozen
    assert sum(found) >= 1


async def test_the_app_collects_when_idle_and_reclaims_at_sign_out(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = dashboard(migrated_url, tmp_path, await trader(db, history=False))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, OverviewScreen)
            assert gc.get_threshold()[2] == idle_gc.NEVER
            collector = app._idle_gc
            young_collections(idle_gc.USUAL)
            collector.last_input = time.monotonic() - idle_gc.IDLE
            await wait_for(pilot, lambda: collector.frozen, what="an idle collection")
            await pilot.press("f3")
            await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
            await wait_for(pilot, lambda: not collector.frozen, what="the reclaim at sign-out")
        assert gc.get_threshold()[2] != idle_gc.NEVER  # CPython's own again, once the app ends
    finally:
        gc.unfreeze()
