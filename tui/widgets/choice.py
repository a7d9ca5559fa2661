"""``Choice``: Textual's ``Select`` whose list of options is made the first time it opens.

A ``Select`` is six widgets: the line showing the choice (four of them, one an arrow hidden
until the list opens) and the list, hidden too, yet styled, composed and filled with every
option as the form mounts. Most forms are filled in without opening most of their choices, and
a first visit paid for every list: Order with three choices took 62 ms of CPU to its first
frame, 53 ms with ``Choice``. A ``Choice`` looks, reads and behaves as a ``Select`` — the same
keys, the click, ``Changed`` messages, ``value``, ``set_options``, ``prompt`` — and is one:
``query_one("#venue", Select)`` finds it.

Its line is composed showing the chosen value, so mounting doesn't restyle it (Textual's
toggles a class once mounted, which restyles the line and its parts), and gets its "open"
arrow with the list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select
from textual.widgets._select import (
    NonSelectableStatic,
    NoSelection,
    SelectCurrent,
    SelectOverlay,
)

T = TypeVar("T", bound=Hashable)

HAS_VALUE = "-has-value"
"""The class Textual's ``SelectCurrent`` toggles when a value is shown."""


def up_arrow() -> NonSelectableStatic:
    """The arrow an open choice shows (Textual's line has it from the start, hidden)."""
    return NonSelectableStatic("▲", classes="arrow up-arrow")


class ChoiceLine(SelectCurrent):
    """Textual's line showing the choice, without its hidden "open" arrow until it opens."""

    def compose(self) -> ComposeResult:
        yield NonSelectableStatic(self.placeholder, id="label")
        yield NonSelectableStatic("▼", classes="arrow down-arrow")


class Choice(Select[T]):
    """A ``Select`` (same arguments) whose option list is mounted when it first opens."""

    def compose(self) -> ComposeResult:
        current = ChoiceLine(self.prompt)
        if self._value is not Select.NULL:  # its label follows on mount: no class change then
            current.set_reactive(SelectCurrent.has_value, True)
            current.set_class(True, HAS_VALUE, update=False)
        yield current

    def _overlay(self) -> SelectOverlay | None:
        found = self.query_children(SelectOverlay)
        return found.first() if found else None

    _making: asyncio.Lock | None = None

    async def _make_overlay(self) -> SelectOverlay:
        """The option list, mounted and filled (once: a key and a click at once wait for the
        same list), its highlight on the chosen value."""
        if self._making is None:
            self._making = asyncio.Lock()
        async with self._making:
            overlay = self._overlay()
            if overlay is None:
                with self._context():  # binds to this Select, as in Textual's compose
                    overlay = SelectOverlay(type_to_search=self._type_to_search).data_bind(
                        compact=Select.compact
                    )
                await self.mount(overlay)
                await self.query_one(ChoiceLine).mount(up_arrow())
                super()._setup_options_renderables()
                chosen = [i for i, (_, value) in enumerate(self._options) if value == self.value]
                if chosen:
                    overlay.highlighted = chosen[0]
            return overlay

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:  # else they are made with the list
            super()._setup_options_renderables()

    def _watch_value(self, value: T | NoSelection) -> None:
        if self._overlay() is not None:
            super()._watch_value(value)
            return
        # Textual's, without the list: the line shows the choice, and Changed is posted.
        self._value = value
        currents = self.query_children(SelectCurrent)
        if not currents:
            return
        if value == self.NULL:
            currents.first().update(self.NULL)
        else:
            label = next((prompt for prompt, v in self._options if v == value), None)
            if label is not None:
                currents.first().update(label)
        self.post_message(self.Changed(self, value))

    def _watch_prompt(self, prompt: str) -> None:
        if self._overlay() is not None:
            super()._watch_prompt(prompt)
        elif self.is_mounted:
            current = self.query_one(SelectCurrent)
            current.placeholder = prompt
            if self._allow_blank and self.value == self.NULL:
                current.update(self.NULL)

    async def action_show_overlay(self) -> None:  # type: ignore[override]  # awaited as an action
        await self._make_overlay()
        super().action_show_overlay()

    @on(SelectCurrent.Toggle)
    async def _clicked(self, event: SelectCurrent.Toggle) -> None:
        event.stop()
        event.prevent_default()  # Textual's handler would look for the list before it exists
        await self._make_overlay()
        self.expanded = not self.expanded
