"""The engine screen (live): engine processes with host, pid, start, heartbeat age, the bots
whose cycle each has in flight ("In cycle", adding up to the header's "in cycle now"; the
header's active bots are all those the engines take turns on), cycles per second, cycle latency p50/p99, errors in the last hour; and the queue of due
bots with their lag. Administrators see everything, other users their own bots.

Heartbeats live in the database, so the screen re-reads the status every ``REFRESH_SECONDS``
(never overlapping: the next read is armed when one finishes) as well as on engine events.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from core.services import engine_status
from core.services.engine_status import EngineStatus
from tui.screens.base import BaseScreen
from tui.widgets.table import Column, KeyedTable, fill_table

PROCESS_COLUMNS = (
    Column("host", "Host", keep=9, width_min=12),
    Column("pid", "PID", 7, keep=8, right=True),
    Column("kind", "Kind", 9, keep=2),
    Column("started", "Started", 16, keep=4),
    Column("heartbeat", "Heartbeat", 9, keep=9, right=True),
    Column("bots", "In cycle", 8, keep=8, right=True),
    Column("rate", "Cycles/s", 8, keep=7, right=True),
    Column("p50", "p50 ms", 8, keep=6, right=True),
    Column("p99", "p99 ms", 8, keep=6, right=True),
    Column("errors", "Err 1h", 6, keep=5, right=True),
    Column("last_error", "Last error", 24, keep=1),
)
QUEUE_COLUMNS = (
    Column("bot", "Bot", keep=9, width_min=14),
    Column("owner", "Owner", 24, keep=3),
    Column("type", "Type", 14, keep=4),
    Column("state", "State", 10, keep=8),
    Column("since", "Due since", 19, keep=5),
    Column("lag", "Lag", 9, keep=9, right=True),
    Column("errors", "Fails", 5, keep=2, right=True),
)
ADMIN_FIGURES = {"rate", "p50", "p99", "errors", "last_error"}
"""Engine-wide figures, shown to administrators only."""
STATE_COLOUR = {"waiting": "warning", "leased": "primary", "backoff": "error"}
STATE_LABEL = {"waiting": "waiting", "leased": "running", "backoff": "backoff"}


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f}s"
    if value < 3600:
        return f"{value / 60:.1f}m"
    return f"{value / 3600:.1f}h"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def engine_settings() -> tuple[float, float]:
    """The slot length and liveness window every engine process uses (``BLOCKBOTX_ENGINE_*``)."""
    from core.engine.settings import EngineSettings

    settings = EngineSettings()
    return settings.cycle_seconds, settings.alive_seconds


class EngineScreen(BaseScreen):
    CSS_PATH = "engine.tcss"
    LIVE_KINDS = frozenset({"engine", "bot"})
    REFRESH_SECONDS: ClassVar[float] = 2.0
    BINDINGS = [  # noqa: RUF012
        Binding("r", "reload", "Refresh", id="engine.refresh", tooltip="Read the status now"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: EngineStatus | None = None
        self._cycle, self._alive = engine_settings()
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="engine-summary")
        with Vertical(id="processes-box", classes="box"):
            yield KeyedTable((), id="processes")
        with Vertical(id="queue-box", classes="box"):
            yield KeyedTable((), id="queue")
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        scope = "" if self.actor.is_admin else " (your bots)"
        self.query_one("#processes-box").border_title = "Engine processes"
        self.query_one("#queue-box").border_title = f"Due bots{scope}"
        self.query_one("#queue").focus()

    @work(exclusive=True, group="engine-load")
    async def load(self) -> None:
        try:
            status = await self.service(
                engine_status.engine_status,
                now=self.clock.now(),
                cycle_seconds=self._cycle,
                alive_seconds=self._alive,
            )
            if status is not None:
                self.status = status
                self._show(status)
        finally:
            if self._timer is not None:
                self._timer.stop()  # one pending refresh at a time, however loads were started
            self._timer = self.set_timer(self.REFRESH_SECONDS, self.load, name="engine-refresh")

    def action_reload(self) -> None:
        self.load()

    def on_resize(self) -> None:
        if self.status is not None:
            self._show(self.status)

    def _show(self, s: EngineStatus) -> None:
        admin = self.actor.is_admin
        alive = len(s.alive)
        engines = (
            f"{alive} engine process{'es' if alive != 1 else ''} running"
            if alive
            else "No engine is running: bots wait until one starts (blockbotx engine)"
        )
        bots = "active bots" if admin else "of your bots active"
        self.query_one("#engine-summary", Static).update(
            f"{engines} · {s.active_bots} {bots}, {s.in_cycle} in cycle now · "
            f"{s.due} due ({s.leased} running, "
            f"{s.backing_off} backing off) · max lag {seconds(s.max_lag_seconds)} · "
            f"a cycle every {seconds(s.cycle_seconds)}"
            + (
                f"\n[$warning]Stale prices, their bots wait: {', '.join(s.stale_prices)}[/]"
                if s.stale_prices
                else ""
            )
        )
        processes = [
            (
                p.id,
                {
                    "host": self.cell(p.host),
                    "pid": self.cell(p.pid),
                    "kind": self.cell("dashboard" if p.embedded else "engine"),
                    "started": self.cell(self.when(p.started_at)),
                    "heartbeat": self.cell(
                        seconds(p.heartbeat_age_seconds), None if p.alive else "error"
                    ),
                    "bots": self.cell(p.bots_leased),
                    "rate": self.cell(
                        "—" if p.cycles_per_second is None else f"{p.cycles_per_second:.1f}"
                    ),
                    "p50": self.cell(ms(p.latency_p50_ms)),
                    "p99": self.cell(ms(p.latency_p99_ms)),
                    "errors": self.cell(
                        "—" if p.errors_last_hour is None else p.errors_last_hour,
                        "error" if p.errors_last_hour else None,
                    ),
                    "last_error": self.cell(p.last_error or ""),
                },
            )
            for p in s.processes
        ]
        process_columns = (
            PROCESS_COLUMNS
            if admin
            else tuple(c for c in PROCESS_COLUMNS if c.key not in ADMIN_FIGURES)
        )
        queue_columns = (
            QUEUE_COLUMNS if admin else tuple(c for c in QUEUE_COLUMNS if c.key != "owner")
        )
        queue = [
            (
                b.id,
                {
                    "bot": self.cell(b.name),
                    "owner": self.cell(b.owner or ""),
                    "type": self.cell(b.type),
                    "state": self.cell(STATE_LABEL[b.state], STATE_COLOUR[b.state]),
                    "since": self.cell(self.when(b.due_since, seconds=True)),
                    "lag": self.cell(seconds(b.lag_seconds)),
                    "errors": self.cell(b.error_count or ""),
                },
            )
            for b in s.queue
        ]
        with self.app.batch_update():
            fill_table(self.query_one("#processes", KeyedTable), process_columns, processes)
            fill_table(self.query_one("#queue", KeyedTable), queue_columns, queue)
        shown = len(s.queue)
        self.say(
            "No bot is due: every active bot has run in the current slot."
            if not s.due
            else f"Showing the {shown} most lagging of {s.due} due bots."
            if shown < s.due
            else ""
        )
