"""The full garbage collection waits for the user's pause (tui.idle_gc)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import pytest

from tui import idle_gc
from tui.idle_gc import IdleCollector


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


def test_a_long_pause_collects_what_was_frozen(collector: IdleCollector) -> None:
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

    collector.last_input = time.monotonic() - idle_gc.RECLAIM
    gc.callbacks.append(count)
    try:
        collector.check()
    finally:
        gc.callbacks.remove(count)
    assert not collector.frozen
    assert sum(found) >= 1
