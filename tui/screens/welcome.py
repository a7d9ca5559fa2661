"""The first screen: what this installation is connected to and whether its schema is current."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from core.db.engine import DatabaseUnavailable
from core.services.system import DatabaseStatus, database_status


class WelcomeScreen(Screen[None]):
    CSS_PATH = "welcome.tcss"
    BINDINGS = [("r", "refresh", "Refresh")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="welcome"):
            yield Static("BlockbotX", id="title")
            yield Static("Run and watch crypto trading bots from the terminal.", id="tagline")
            yield Static("Connecting to the database…", id="db-status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    @work(exclusive=True, group="db-status")
    async def action_refresh(self) -> None:
        target = self.query_one("#db-status", Static)
        try:
            status = await database_status(self.app.db)  # type: ignore[attr-defined]
        except DatabaseUnavailable as exc:
            target.update(f"[b $error]Database unavailable[/]\n{exc}")
            return
        target.update(_describe(status))


def _describe(status: DatabaseStatus) -> str:
    schema = "up to date" if status.up_to_date else "[b $warning]migrations pending[/]"
    return (
        f"[b]Database[/]   PostgreSQL {status.server_version}\n"
        f"[b]Schema[/]     revision {', '.join(status.revisions) or 'none'} ({schema}), "
        f"{status.tables} tables\n"
        f"[b]Accounts[/]   {status.users}"
    )
