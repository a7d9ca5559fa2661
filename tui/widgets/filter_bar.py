"""The ``/`` filter: a one-line input that appears on demand and narrows a list as you type.

Screens put one above their list and call ``open()`` from their ``/`` binding. Every edit posts
``FilterBar.Filter``; Enter goes back to the list keeping the filter, Esc clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar {
        display: none;
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    FilterBar.-open {
        display: block;
    }
    FilterBar:focus {
        border: none;
        background: $primary 25%;  /* typing here shows, even in 256 colours */
    }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "dismiss", "Clear filter", id="filter.clear", tooltip="Clear the filter"),
    ]

    @dataclass
    class Filter(Message):
        """The filter text changed (empty: no filter)."""

        bar: FilterBar
        text: str

    def __init__(self, placeholder: str = "filter…", **kwargs) -> None:
        super().__init__(placeholder=placeholder, **kwargs)

    def allow_focus(self) -> bool:
        # Only while open: a screen's first focus (Textual's AUTO_FOCUS takes the first
        # focusable widget, shown or not) went to the hidden bar, then to the list the screen
        # meant: a restyle and a change of the footer's keys more on every first visit.
        return self.has_class("-open")

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    def action_dismiss(self) -> None:
        had = bool(self.value)
        self.value = ""
        self.remove_class("-open")
        self.screen.focus_next()
        if had:
            self.post_message(self.Filter(self, ""))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input is self:
            event.stop()
            self.post_message(self.Filter(self, self.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input is self:
            event.stop()
            if not self.value:
                self.remove_class("-open")
            self.screen.focus_next()


def matches(text: str, *fields: object) -> bool:
    """Every word of ``text`` appears in one of ``fields`` (case-insensitive)."""
    haystack = " ".join(str(f) for f in fields if f is not None).lower()
    return all(word in haystack for word in text.lower().split())
