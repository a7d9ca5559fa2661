"""What the signed-in data screens share: the acting user, a clock, service calls, tables.

A screen reads ``app.db`` and ``app.actor`` (the app's convention). ``service`` runs a service
function ``fn(session, actor, ...)`` in a session of its own (a committed transaction when
``write``) and turns a refusal into a toast instead of a traceback (``BaseScreen.call``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, TypeVar

from rich.style import Style
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession
from textual.app import App
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, TabbedContent, TabPane

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.services.actor import Actor
from tui.screens.base import BaseScreen
from tui.widgets.table import Cell, Column, KeyedTable

T = TypeVar("T")
Service = Callable[..., Awaitable[T]]


def app_clock(app: App[Any]) -> Clock:
    """The app's clock: ``app.clock`` if set, else the sign-in config's (tests freeze it)."""
    clock = getattr(app, "clock", None)
    if clock is None:
        clock = getattr(getattr(app, "auth", None), "clock", None)
    return clock or SYSTEM_CLOCK


def display_zone(app: App[Any]) -> tzinfo:
    """The signed-in user's time zone for showing times (``app.user_zone``), else UTC."""
    return getattr(app, "user_zone", None) or UTC


def when(app: App[Any], moment: datetime | None, *, seconds: bool = False) -> str:
    """A time in the user's zone, compact; "—" for none."""
    if moment is None:
        return "—"
    return f"{moment.astimezone(display_zone(app)):%Y-%m-%d %H:%M{':%S' if seconds else ''}}"


def cell(app: App[Any], value: object, variable: str | None = None, *, bold: bool = False) -> Text:
    """A table cell shown as it is (never parsed as markup), coloured by a theme variable."""
    color = app.theme_variables.get(variable) if variable else None
    try:
        style = Style(color=color, bold=bold or None)
    except Exception:  # a variable that isn't a plain colour: show it uncoloured
        style = Style(bold=bold or None)
    return Text(str(value), style=style, end="")


@dataclass(frozen=True, slots=True)
class Col:
    """A table column: a fixed ``width`` or flexible (None: takes what is left, at least
    ``width_min``); ``keep`` ranks columns so narrow terminals drop the least useful first."""

    key: str
    label: str
    width: int | None = None
    keep: int = 0
    width_min: int = 16
    right: bool = False
    """Right-aligned (figures)."""


def fit_columns(columns: Sequence[Col], available: int, padding: int = 2) -> list[tuple[Col, int]]:
    """The columns that fit in ``available`` cells, in their order, with their widths."""
    shown = list(columns)
    while True:
        fixed = sum(c.width or 0 for c in shown) + padding * len(shown)
        flexible = [c for c in shown if c.width is None]
        room = available - fixed
        if room >= sum(c.width_min for c in flexible) or len(shown) <= 1:
            break
        droppable = [c for c in shown if c.width is not None]
        if not droppable:
            break
        shown.remove(min(droppable, key=lambda c: c.keep))
    share = max(room // max(len(flexible), 1), 1) if flexible else 0
    return [(c, c.width if c.width is not None else max(share, c.width_min)) for c in shown]


def fill_table(
    table: KeyedTable,
    columns: Sequence[Col],
    rows: Iterable[tuple[str, Mapping[str, Cell]]],
) -> None:
    """Show ``rows`` (key, cells by column key) in the columns that fit the table's width.

    The columns are re-laid only when the fit changes (a resize); rows go through the table's
    keyed diff, so a live refresh repaints only the cells that changed."""
    available = (table.size.width or table.app.size.width) - 2
    spec = tuple(
        Column(col.key, col.label, width, col.right)
        for col, width in fit_columns(columns, available)
    )
    if spec != table.columns_spec:
        # This screen decides the columns itself: they are all the table has, all shown.
        table.all_columns = table.columns_spec = spec
        table.clear(columns=True)
        for column in spec:
            table.add_column(column.label, key=column.key, width=column.width)
    table.sync((key, [cells.get(c.key, "") for c in spec]) for key, cells in rows)


class DataScreen(BaseScreen):
    """A main (or sub-) screen of the signed-in dashboard that reads through the services.

    The frame, ``load()``, live refresh (``LIVE_KINDS``) and toasts for refusals come from
    ``BaseScreen``; this adds ``service(fn, ...)`` (a session per call), the clock, times in the
    user's zone, table cells coloured by theme variables and ``<``/``>`` between tabs. Textual
    calls ``on_mount`` of every class in the MRO, so a subclass's own ``on_mount`` must not call
    ``super().on_mount()`` (that would load twice)."""

    STATUS = "#status"
    BINDINGS: ClassVar[list[BindingType]] = [
        # ">"/"<" where nothing is being typed; ctrl+page down/up from inside a form field too.
        Binding("greater_than_sign,ctrl+pagedown", "next_tab(1)", "Next tab", id="screen.next-tab",
                key_display=">", show=False, tooltip="The next tab of this screen"),
        Binding("less_than_sign,ctrl+pageup", "next_tab(-1)", "Previous tab",
                id="screen.previous-tab", key_display="<", show=False,
                tooltip="The previous tab of this screen"),
    ]  # fmt: skip

    @property
    def db(self) -> Database:
        return self.app.db  # type: ignore[attr-defined]

    @property
    def clock(self) -> Clock:
        return app_clock(self.app)

    def when(self, moment: datetime | None, *, seconds: bool = False) -> str:
        return when(self.app, moment, seconds=seconds)

    def cell(self, value: object, variable: str | None = None, *, bold: bool = False) -> Text:
        return cell(self.app, value, variable, bold=bold)

    async def service(
        self, fn: Service[T], *args: Any, write: bool = False, **kwargs: Any
    ) -> T | None:
        """``fn(session, actor, *args, **kwargs)`` in a session of its own (committed when
        ``write``); None (and a toast) on refusal."""
        return await self.call(in_session(self.db, self.actor, fn, *args, write=write, **kwargs))

    def action_next_tab(self, step: int) -> None:
        """The previous / next tab of the screen's TabbedContent, its first list or field focused."""
        found = self.query(TabbedContent)
        if not found:
            return
        tabs = found.first()
        panes = [p.id for p in tabs.query(TabPane) if p.id]
        if not panes:
            return
        current = panes.index(tabs.active) if tabs.active in panes else 0
        tabs.active = panes[(current + step) % len(panes)]
        pane = tabs.get_pane(tabs.active)
        tables = pane.query(DataTable)
        focusable: list[Widget] = [*tables] or [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def say(self, message: str) -> None:
        """A hint in the screen's ``#status`` line (empty lists, what to press)."""
        found = self.query(self.STATUS)
        if found:
            found.first().update(message)  # type: ignore[attr-defined]


async def in_session(
    db: Database, actor: Actor, fn: Service[T], *args: Any, write: bool = False, **kwargs: Any
) -> T:
    """Run ``fn(session, actor, ...)`` in its own session; a committed transaction if ``write``."""
    session: AsyncSession
    if write:
        async with db.sessions.begin() as session:
            return await fn(session, actor, *args, **kwargs)
    async with db.session() as session:
        return await fn(session, actor, *args, **kwargs)
