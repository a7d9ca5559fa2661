"""Filter rows made after the first frame (``tui.widgets.late``): the screen is laid out and
drawn without the controls, which then come before what the row already held; a first load
reads "no filter" from controls not made yet; ``/`` reaches the filter whenever it is pressed,
and a filter chosen or typed still narrows the list (Admin's users, DeFi, Notifications)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static

from core.db.engine import Database
from core.services.actor import Role
from tests.service_users import add_user
from tests.tui.auth_helpers import wait_for
from tests.tui.dash_helpers import signed_in, trader
from tests.tui.screen_helpers import NOW, WIDE, ScreenApp, settle
from tui.screens.admin import AdminScreen
from tui.screens.defi import DeFiScreen
from tui.screens.notifications import NotificationsScreen
from tui.screens.security import SecurityScreen
from tui.widgets.late import LateRow, late_value
from tui.widgets.table import KeyedTable


class RowScreen(Screen[None]):
    """A filter row; what the row holds is noted at the screen's first layout."""

    at_first_layout: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield LateRow(self.controls, Static("3 shown", id="counts"), id="filters")

    @staticmethod
    def controls() -> ComposeResult:
        yield Label("Kind")
        yield Select([("Spot", "spot"), ("Margin", "margin")], prompt="Any", id="kind")

    def _refresh_layout(self, *args: object, **kwargs: object) -> None:
        if self.at_first_layout is None:
            self.at_first_layout = [
                w.id or type(w).__name__ for w in self.query_one(LateRow).children
            ]
        super()._refresh_layout(*args, **kwargs)  # type: ignore[arg-type]


class RowApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(RowScreen())


async def test_the_controls_come_after_the_first_layout_before_what_the_row_held() -> None:
    app = RowApp()
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RowScreen), what="the screen")
        screen = app.screen
        assert isinstance(screen, RowScreen)
        row = screen.query_one(LateRow)
        await wait_for(pilot, lambda: bool(screen.query("#kind")), what="the controls")
        assert screen.at_first_layout == ["counts"]  # drawn first without them
        assert [w.id or type(w).__name__ for w in row.children] == ["Label", "kind", "counts"]
        label, kind, counts = row.children
        assert label.region.y == kind.region.y == counts.region.y  # a row: one line
        assert label.region.right <= kind.region.x < kind.region.right <= counts.region.x
        assert late_value(row, "#kind") is Select.NULL
        screen.query_one("#kind", Select).value = "margin"
        assert late_value(row, "#kind") == "margin"
        assert late_value(row, "#missing") is None  # not made (yet): no filter
        await row.build()  # built once: a second call only waits
        assert len(row.query(Select)) == 1


async def test_admin_users_search_at_once_and_filter_by_role(
    db: Database, migrated_url: str
) -> None:
    root = await add_user(db, "root@example.com", role=Role.SUPERADMIN,
                          created_at=NOW - timedelta(days=9))  # fmt: skip
    await add_user(db, "ann@example.com", first_name="Ann", created_at=NOW - timedelta(days=5))
    await add_user(db, "ops@example.com", role=Role.ADMIN, created_at=NOW - timedelta(days=3))
    app = ScreenApp(migrated_url, root, AdminScreen)
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AdminScreen), what="admin")
        await pilot.press("slash", *"ann")  # "/" as soon as the screen is there
        await settle(pilot)
        screen = app.screen
        search = screen.query_one("#user-search", Input)
        assert app.focused is search and search.value == "ann"
        table = screen.query_one("#users-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="ann alone")
        assert table.selected_key is not None

        search.value = ""
        screen.query_one("#user-role", Select).value = "admin"
        await wait_for(pilot, lambda: table.row_count == 1 and search.value == "", what="ops")
        emails = [str(table.get_row_at(0)[0])]
        assert emails == ["ops@example.com"]


async def test_defi_and_notifications_filters_take_slash(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded) as (app, pilot):
        for key, kind, field in (("8", DeFiScreen, "#chain-filter"),
                                 ("9", NotificationsScreen, "#type-filter")):  # fmt: skip
            app.screen.set_focus(None)
            await pilot.press(key)
            await wait_for(pilot, lambda k=kind: isinstance(app.screen, k), what=str(kind))
            await pilot.press("slash")
            await settle(pilot)
            assert app.focused is app.screen.query_one(field, Select)
            filters = app.screen.query_one("#filters", LateRow)
            assert [type(w).__name__ for w in filters.children][-1] == "Static"  # the summary last


async def test_security_password_form_takes_its_key_and_typing_at_once(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded) as (app, pilot):
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SecurityScreen), what="security")
        await pilot.press("1", *"old secret")  # no wait for the form
        await settle(pilot)
        current = app.screen.query_one("#current", Input)
        assert app.focused is current and current.value == "old secret"
        await pilot.press("tab", *"new")
        assert app.screen.query_one("#new", Input).value == "new"
