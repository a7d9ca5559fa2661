"""What the signed-in data screens share: the acting user, a clock, service calls, tables.

A screen reads ``app.db`` and ``app.actor`` (the app's convention). ``service`` runs a service
function ``fn(session, actor, ...)`` in a session of its own (a committed transaction when
``write``) and turns a refusal into a toast instead of a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, TypeVar

from rich.style import Style
from rich.text import Text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database, DatabaseUnavailable
from core.errors import ServiceError
from core.events import Event, Subscription, bus
from core.security.vault import VaultError
from core.services.actor import Actor

T = TypeVar("T")
log = logging.getLogger(__name__)
UNEXPECTED = "Something went wrong; the details are in the log file."
UNREACHABLE = "Database unavailable: BlockbotX can't reach its database right now."
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
    table: DataTable[Any],
    columns: Sequence[Col],
    rows: Sequence[tuple[str, Mapping[str, object]]],
    *,
    keep_cursor: bool = True,
) -> None:
    """Lay the columns out for the table's width and show ``rows`` (key, cells by column)."""
    current = (
        table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if (keep_cursor and table.row_count)
        else None
    )
    available = (table.size.width or table.app.size.width) - 2
    fitted = fit_columns(columns, available)
    table.clear(columns=True)
    for col, width in fitted:
        table.add_column(col.label, width=width, key=col.key)
    for key, cells in rows:
        table.add_row(*(cells.get(col.key, "") for col, _ in fitted), key=key)
    if current is not None and any(k == current for k, _ in rows):
        table.move_cursor(row=table.get_row_index(current))


class DataScreen(Screen[None]):
    """A signed-in screen: header, ``compose_body()``, footer; ``load()`` fetches its data and
    ``live(events)`` reacts to the ``LIVE_KINDS`` events of the acting user (a burst within
    ``LIVE_INTERVAL`` is one call). ``service`` runs a service function, a refusal becomes a
    toast. Textual calls ``on_mount`` of every class in the MRO, so a subclass's own
    ``on_mount`` must not call ``super().on_mount()`` (that would load twice)."""

    LIVE_KINDS: ClassVar[frozenset[str]] = frozenset()
    LIVE_INTERVAL: ClassVar[float] = 0.5
    STATUS = "#status"

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        if self.LIVE_KINDS:
            sub = bus.subscribe(user_id=self.actor.user_id, kinds=self.LIVE_KINDS)
            self.run_worker(self._follow(sub), group="live", exclusive=True)
        self.load()

    async def _follow(self, sub: Subscription) -> None:
        try:
            while True:
                events = [await sub.get()]
                while not sub.queue.empty():
                    events.append(sub.queue.get_nowait())
                self.live(events)
                await asyncio.sleep(self.LIVE_INTERVAL)
        finally:
            sub.close()

    def load(self) -> None:
        """Fetch (again) what the screen shows; screens start a worker here."""

    def live(self, events: list[Event]) -> None:
        self.load()

    @property
    def db(self) -> Database:
        return self.app.db  # type: ignore[attr-defined,no-any-return]

    @property
    def actor(self) -> Actor:
        return self.app.actor  # type: ignore[attr-defined,no-any-return]

    @property
    def clock(self) -> Clock:
        return app_clock(self.app)

    def when(self, moment: datetime | None, *, seconds: bool = False) -> str:
        return when(self.app, moment, seconds=seconds)

    def cell(self, value: object, variable: str | None = None, *, bold: bool = False) -> Text:
        return cell(self.app, value, variable, bold=bold)

    async def call(self, awaitable: Awaitable[T]) -> T | None:
        """Await a service call; a refusal becomes a toast and None."""
        try:
            return await awaitable
        except ServiceError as exc:
            self.notify(str(exc), severity="warning", timeout=6)
        except (DatabaseUnavailable, OSError, DBAPIError):
            log.warning("database unreachable during a service call", exc_info=True)
            self.notify(UNREACHABLE, severity="error")
        except VaultError as exc:
            log.error("vault: %s", exc)
            self.notify("A stored secret could not be decrypted.", severity="error")
        except Exception:
            log.exception("unexpected error in a service call")
            self.notify(UNEXPECTED, severity="error")
        return None

    async def service(
        self, fn: Service[T], *args: Any, write: bool = False, **kwargs: Any
    ) -> T | None:
        """``fn(session, actor, *args, **kwargs)`` in a session of its own (committed when
        ``write``); None (and a toast) on refusal."""
        return await self.call(in_session(self.db, self.actor, fn, *args, write=write, **kwargs))

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
