"""Full garbage collections while the user is idle, not in the middle of a screen's first visit.

CPython's cyclic collector makes a full collection (every object not frozen) once enough young
objects have survived. With the screens' widgets, styles and renders alive, that walk took
20-140 ms of CPU, and it fell wherever the count ran out: bench_tui's slow outliers of a first
visit (Referrals, the palette, Notifications, the new-bot form) were such collections.

Here the automatic full collection is off while the app runs (the young generations are
collected as before, a millisecond or two each). Once no key or mouse event has come for
``IDLE`` seconds and as much work is pending as CPython would have waited for (or, however busy
the user, ``FORCE`` times that), a full collection runs and what survives it is frozen, as the
app freezes what start-up loaded: the next one walks only what is new, a few milliseconds. An
object frozen alive that later becomes garbage in a cycle (a closed dialog) waits for a longer
pause, ``RECLAIM`` seconds, when everything is unfrozen, collected and frozen again.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

IDLE = 1.5
"""Seconds without input before a full collection may run."""
RECLAIM = 60.0
"""Seconds without input before the frozen objects are collected too."""
CHECK = 0.5
"""Seconds between looks at the collector's counts."""
USUAL = 10
"""Young (generation 1) collections between full ones: CPython's default third threshold."""
FORCE = 10 * USUAL
"""Young collections after which a full one runs even while the user is busy."""
NEVER = 1 << 30
"""A third threshold the count never reaches: no automatic full collection."""


class IdleCollector:
    """Moves the full collections into the app's idle time (``start`` on mount, ``stop`` on
    unmount, ``touched`` on every input event)."""

    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self.frozen = False
        """Whether objects were frozen since the last ``RECLAIM``."""
        self._thresholds: tuple[int, int, int] | None = None

    def start(self, app: App[Any]) -> None:
        self._thresholds = gc.get_threshold()
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, NEVER)
        app.set_interval(CHECK, self.check, name="idle garbage collection")

    def stop(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def touched(self) -> None:
        self.last_input = time.monotonic()

    def check(self) -> None:
        if self._thresholds is None:
            return
        idle = time.monotonic() - self.last_input
        pending = gc.get_count()[2]  # young collections since the last full one
        if self.frozen and idle >= RECLAIM:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen = False
        elif pending >= FORCE or (pending >= USUAL and idle >= IDLE):
            gc.collect()
            gc.freeze()
            self.frozen = True
