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
object frozen alive that later becomes garbage in a cycle (a closed dialog) is collected at
sign-out (``reclaim``), when every screen is thrown away anyway; not on a timer, as a walk of the
whole heap would pause an in-process engine's cycle.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

IDLE = 1.5
"""Seconds without input before a full collection may run."""
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
        """Whether survivors were frozen since the last ``reclaim``."""
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
        if pending >= FORCE or (pending >= USUAL and idle >= IDLE):
            gc.collect()
            gc.freeze()
            self.frozen = True

    def reclaim(self) -> None:
        """Everything collected, the frozen too (at sign-out), then frozen again."""
        if self.frozen:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen = False
