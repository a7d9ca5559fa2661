"""The command palette (ctrl+p): one provider per domain, each a list of named commands.

Every action on a key is also here, so a user who forgets a key can type what they want.
Providers that need data (bot names, connections) load it once when the palette opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui import navigation

if TYPE_CHECKING:
    from tui.app import BlockbotXApp


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    run: Callable[[], object]


class DomainProvider(Provider):
    """Lists ``commands()``; matches them by name, fuzzily."""

    _commands: list[Command]

    @property
    def bbx(self) -> BlockbotXApp:
        return self.app  # type: ignore[return-value]

    async def startup(self) -> None:
        self._commands = [] if self.bbx.actor is None else await self.commands()

    async def commands(self) -> list[Command]:
        return []

    async def discover(self) -> Hits:
        for command in self._commands:
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands:
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)


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


def _screen_providers() -> tuple[type[Provider], ...]:
    from tui.screens.commands import PROVIDERS as ACCOUNT_SCREENS
    from tui.screens.trading_commands import PROVIDERS as TRADING_SCREENS

    return (*ACCOUNT_SCREENS, *TRADING_SCREENS)


PROVIDERS: tuple[type[Provider], ...] = (NavigationProvider, *_screen_providers())
