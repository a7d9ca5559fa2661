"""The command palette's building blocks: a ``Command`` (a name, a line of help, what it runs)
and ``DomainProvider``, a palette provider listing one domain's commands.

They live low, apart from the providers themselves (``tui.providers`` and the screens'
``commands`` modules), so a screen's provider can be imported first, alone, without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
