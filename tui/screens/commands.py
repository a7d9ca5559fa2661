"""Command-palette providers for the DeFi, notifications, support, settings and admin screens:
their actions by name, and "go to ticket …" / "admin: user …" by what the user remembers.

Each command switches to its main screen first and then acts there, so a palette command does
exactly what the key on that screen does (same checks, same dialogs).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from tui import navigation
from tui.palette import Command, DomainProvider
from tui.service_call import in_session

if TYPE_CHECKING:
    from tui.app import BlockbotXApp

LISTED = 50


def on_screen(app: BlockbotXApp, mode: str, then: Callable[[Screen[Any]], object]) -> None:
    """Go to main screen ``mode`` (if the user may), then call ``then`` with that screen."""
    if not navigation.by_id(mode).allowed(app.actor):
        app.action_go(mode)  # says why not
        return

    async def go() -> None:
        if app.current_mode != mode:
            await app.switch_mode(mode)
        result = then(app.screen_stack[0])  # the main screen, under any sub-screen
        if hasattr(result, "__await__"):
            await result

    app.run_worker(go(), group="palette-command")


def act(action: str) -> Callable[[Screen[Any]], object]:
    """Run the screen's own ``action_<action>``."""
    return lambda screen: getattr(screen, f"action_{action}")()


def push(make: Callable[[], Screen[Any]]) -> Callable[[Screen[Any]], object]:
    return lambda screen: screen.app.push_screen(make())


def stay(_screen: Screen[Any]) -> None:
    """Just show the screen."""


class AccountProvider(DomainProvider):
    """DeFi, notifications, settings: the screens' actions by name."""

    async def commands(self) -> list[Command]:
        from tui.screens.notification_prefs import NotificationPrefsScreen

        app = self.bbx
        go = partial(on_screen, app)
        found = [
            Command("DeFi: add a wallet", "Track a wallet by its address", partial(go, "defi", act("add"))),
            Command("DeFi: revalue positions", "Accrue rewards and revalue at current prices",
                    partial(go, "defi", act("revalue"))),
            Command("Notifications: mark all read", "Every unread notification",
                    partial(go, "notifications", act("mark_all_read"))),
            Command("Notifications: preferences", "Channels, quiet hours, digests, Telegram, Discord",
                    partial(go, "notifications", push(NotificationPrefsScreen))),
            Command("Settings: export my data", "GDPR export of everything, as CSV files in a zip",
                    partial(go, "settings", act("export"))),
            Command("Telegram: pair a chat", "A one-time code to send the bot (Security, tab 7)",
                    partial(_security_tab, app, "telegram")),
        ]  # fmt: skip
        found += [
            Command(
                f"Theme: {name}",
                "Apply and remember this theme",
                partial(go, "settings", partial(_theme, name)),
            )
            for name in sorted(app.available_themes)
        ]
        return found


def _security_tab(app: BlockbotXApp, tab: str) -> None:
    """The Security screen, on one of its tabs."""
    from tui.screens.security import SecurityScreen

    screen = SecurityScreen()
    app.push_screen(screen)
    app.call_after_refresh(screen.action_tab, tab)


def _theme(name: str, screen: Screen[Any]) -> None:
    from textual.widgets import Select

    screen.query_one("#theme", Select).value = name  # stored by the settings screen


class SupportProvider(DomainProvider):
    """Open a ticket; go to any of your (or, for staff, anyone's) recent tickets by subject."""

    async def commands(self) -> list[Command]:
        from tui.screens.ticket import TicketScreen

        app = self.bbx
        actor = app.actor
        assert actor is not None
        found = [
            Command(
                "Support: open a ticket",
                "Write to support",
                partial(on_screen, app, "support", act("new_ticket")),
            )
        ]
        from core.services import support

        try:
            tickets = await in_session(app.db, actor, support.list_tickets, limit=LISTED,
                                       everyone=actor.is_admin)  # fmt: skip
        except Exception:  # the palette still opens without them
            return found
        found += [
            Command(
                f"Go to ticket: {t.subject}",
                f"{t.status.replace('_', ' ')} · {t.category}",
                partial(on_screen, app, "support", push(partial(TicketScreen, t.id))),
            )
            for t in tickets
        ]
        return found


class AdminProvider(DomainProvider):
    """Administrators only: open a user's page by email, the logs, the system settings."""

    async def commands(self) -> list[Command]:
        from tui.screens.admin_users import UserScreen

        app = self.bbx
        actor = app.actor
        if actor is None or not actor.is_admin:
            return []
        found = [
            Command("Admin: users", "Search, suspend, ban, notes", partial(on_screen, app, "admin", stay)),
        ]  # fmt: skip
        from core.services import admin

        try:
            users = await in_session(app.db, actor, admin.search_users, None, limit=LISTED * 4)
        except Exception:  # a role taken away since sign-in: no commands
            return []
        found += [
            Command(
                f"Admin: user {u.email}",
                f"{u.role} · {u.status}",
                partial(on_screen, app, "admin", push(partial(UserScreen, u.id))),
            )
            for u in users
        ]
        return found


PROVIDERS = (AccountProvider, SupportProvider, AdminProvider)
