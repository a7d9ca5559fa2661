"""Building the app for sign-in tests: frozen clock, cheap hasher, fixed vault and device,
and a remembered-session file in a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.clock import FrozenClock
from core.db.engine import Database
from core.security.device import describe
from core.security.passwords import Hasher
from core.security.vault import Vault
from core.services.authconfig import AuthConfig
from core.services.remembered import RememberedSession
from tui.app import BlockbotXApp

PASSWORD = "amber-falcon-rides-north"
NEW_PASSWORD = "quiet-harbor-lanterns-9"
DEVICE = describe(ip="203.0.113.5", terminal="xterm-256color", host="desk", os_user="alice")
FIXED_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_auth(clock: FrozenClock | None = None) -> AuthConfig:
    return AuthConfig(
        clock=clock or FrozenClock(),
        hasher=Hasher(time_cost=1, memory_cost=8, parallelism=1),
        vault=Vault(b"\x07" * 32, "test"),
        new_totp_secret=lambda: FIXED_SECRET,
    )


def make_app(url: str, tmp: Path, auth: AuthConfig | None = None, **kwargs) -> BlockbotXApp:  # type: ignore[no-untyped-def]
    kwargs.setdefault("engine", False)  # tests that need the bots running ask for it
    return BlockbotXApp(
        Database(url),
        auth=auth or make_auth(),
        device=DEVICE,
        remembered=RememberedSession(url, directory=tmp / "sessions", use_keyring=False),
        **kwargs,
    )


def screen_text(app: BlockbotXApp) -> str:
    """Everything the current screen shows, as plain text."""
    from textual.widgets import Input, Static

    screen = app.screen
    parts = [str(w.render()) for w in screen.query(Static)]
    parts += [w.value for w in screen.query(Input) if not w.password]
    return "\n".join(parts)


FOREVER = {"notification-toasts"}
"""Worker groups that run for the whole session, besides the ``live…`` ones."""


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Let the app finish its work: every worker done, except those waiting on an open modal
    or on a screen pushed above theirs, and the long-running ``live…`` ones."""
    import time

    from textual.screen import ModalScreen
    from textual.worker import WorkerState

    from tui.screens.base import LIVE_GROUP

    app = pilot.app
    # Bounded by time, not by a count of pauses: on a loaded machine a screen's load can take
    # seconds, and a snapshot taken before it ends shows half-fitted columns.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        await pilot.pause()
        running = [
            w
            for w in app.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            and not w.group.startswith(LIVE_GROUP)
            and w.group not in FOREVER
        ]
        if not app.screen.is_mounted:
            continue  # a screen just switched to is still composing
        # Workers of screens further down may be waiting for this screen's answer.
        here = [w for w in running if w.node is app.screen or w.node is app]
        if not here or (isinstance(app.screen, ModalScreen) and len(running) <= 1):
            break
        await pilot.pause(0.02)
    for worker in app.workers:
        if worker.state is WorkerState.ERROR:
            raise worker.error  # type: ignore[misc]
    await pilot.pause()


def palette_hits(app: BlockbotXApp) -> list[str]:
    """The command palette's current suggestions (none when it is not open)."""
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    return [str(o.prompt) for o in lists.first().options] if lists else []


async def wait_for(pilot, ready, *, timeout: float = 180.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    """Poll until ``ready()`` holds: timers and events arrive when a loaded machine gets to
    them, so a fixed pause is a flaky test. Fails after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout:g} s: {what or ready}")
        await pilot.pause(0.05)
    await settle(pilot)


async def open_screen(pilot, key: str, kind: type) -> Any:  # type: ignore[no-untyped-def]
    """Press a screen's key with no field focused (a field would take it as text); wait for it."""
    pilot.app.screen.set_focus(None)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=f"screen {key}")
    await settle(pilot)
    return pilot.app.screen


async def type_into(pilot, selector: str, text: str, *, keys: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Focus an input and fill it with ``text`` (typed key by key when ``keys``)."""
    field = pilot.app.screen.query_one(selector)
    field.focus()
    field.value = ""
    if keys:
        await pilot.press(*text)
    else:
        field.value = text
        await pilot.pause()
