"""Start-up: the sign-in screen is drawn first and the database opens behind it
(``BlockbotXApp(open_database=...)``, as ``blockbotx`` starts it); signing in waits for it, and a
database that can't be opened ends the app with the reason."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Static

from core.db.engine import Database, DatabaseUnavailable
from core.services import accounts
from core.services.remembered import RememberedSession
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_auth, type_into, wait_for
from tests.waiting import wait_until
from tui.app import BlockbotXApp, Opened
from tui.screens.login import LoginScreen
from tui.screens.overview import OverviewScreen

ROOT = Path(__file__).resolve().parents[2]


def opening_app(url: str, tmp: Path, opener, auth) -> BlockbotXApp:  # type: ignore[no-untyped-def]
    return BlockbotXApp(
        open_database=opener,
        auth=auth,
        device=DEVICE,
        remembered=RememberedSession(url, directory=tmp / "sessions", use_keyring=False),
        engine=False,
        listen=False,
    )


async def test_sign_in_waits_for_the_database_opening_behind_the_screen(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    await accounts.register(db, email="di@example.com", password=PASSWORD, device=DEVICE, auth=auth)
    release = asyncio.Event()
    asked: list[str] = []

    async def opener(say: Callable[[str], None]) -> Opened:
        asked.append("open")
        say("Opening the database…")
        await release.wait()
        return Opened(Database(migrated_url))

    app = opening_app(migrated_url, tmp_path, opener, auth)
    async with app.run_test(size=(100, 40)) as pilot:
        # (wait_until, not wait_for: its settle would wait on the sign-in that waits here)
        await wait_until(lambda: bool(asked), what="the database opening")
        assert isinstance(app.screen, LoginScreen)
        assert "Opening the database" in str(app.screen.query_one("#notice", Static).render())
        await type_into(pilot, "#email", "di@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.click("#sign-in")
        await wait_until(
            lambda: app.screen.query_one("#sign-in", Button).disabled, what="the sign-in under way"
        )
        assert app.actor is None  # waiting for the database, not failed
        release.set()
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), what="overview")
        assert app.actor is not None and app.account is not None
        assert app.account.email == "di@example.com"


async def test_a_database_that_cannot_be_opened_ends_the_app_with_the_reason(
    migrated_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    async def opener(say: Callable[[str], None]) -> Opened:
        raise DatabaseUnavailable("cannot reach the database at nowhere: refused")

    app = opening_app(migrated_url, tmp_path, opener, make_auth())
    async with app.run_test(size=(100, 40)):
        await wait_until(lambda: app.return_code is not None, what="the app ending")
    assert app.return_code == 1
    assert "error: cannot reach the database at nowhere: refused" in capfd.readouterr().err


def test_the_sign_in_screen_loads_no_database_layer() -> None:
    """What ``blockbotx`` loads before its first frame leaves the settings' pydantic-settings,
    SQLAlchemy and asyncpg (together longer than Textual's own start) to the opening behind the
    sign-in screen."""
    code = (
        "import sys\n"
        "from tui.cli.main import dashboard\n"
        "import tui.screens.login\n"
        "dashboard(engine=False)\n"
        "print(sorted(m for m in ('sqlalchemy', 'asyncpg', 'pydantic_settings') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
