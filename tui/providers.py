"""The command palette (ctrl+p): one provider per domain, each a list of named commands.

Every action on a key is also here, so a user who forgets a key can type what they want.
Providers that need data (bot names, connections) load it once when the palette opens.
"""

from __future__ import annotations

from functools import partial

from textual.command import Provider

from tui import navigation
from tui.palette import Command, DomainProvider
from tui.screens.commands import PROVIDERS as ACCOUNT_SCREENS
from tui.screens.trading_commands import PROVIDERS as TRADING_SCREENS


class NavigationProvider(DomainProvider):
    """Go to any main screen, and the account actions."""

    async def commands(self) -> list[Command]:
        app = self.bbx
        found = [
            Command(f"Go to {d.title}", d.description, partial(app.action_go, d.id))
            for d in navigation.allowed(app.actor)
        ]
        found += [
            Command("Security settings", "Password, two-factor, sessions, devices, API keys",
                    app.action_security),
            Command("Help: keys", "Every key on this screen and everywhere", app.action_help),
            Command("Log out", "Sign out and forget this computer", app.action_logout),
        ]  # fmt: skip
        return found


PROVIDERS: tuple[type[Provider], ...] = (NavigationProvider, *ACCOUNT_SCREENS, *TRADING_SCREENS)
