"""``?``: every key that works here — the screen's own, the global ones and the list keys —
as the user has them (after ``[keymap]`` overrides), with the binding ids to remap them by."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


@dataclass(frozen=True, slots=True)
class KeyLine:
    keys: str
    what: str
    binding_id: str = ""


LIST_KEYS = (
    KeyLine("j / k, ↓ / ↑", "Next / previous row"),
    KeyLine("g / G", "First / last row"),
    KeyLine("enter", "Open the selected row"),
    KeyLine("/", "Filter the list (esc clears it)"),
    KeyLine("tab / shift+tab", "Next / previous control"),
    KeyLine("esc", "Back"),
)


def collect(app: App) -> tuple[list[KeyLine], list[KeyLine]]:
    """(this screen's keys, global keys) from the bindings active right now."""
    here: list[KeyLine] = []
    everywhere: list[KeyLine] = []
    seen: set[tuple[str, str]] = set()
    for active in app.active_bindings.values():
        binding: Binding = active.binding
        if binding.system or not (binding.description or binding.tooltip):
            continue
        if active.node is not app and active.node is not app.screen:
            continue  # a widget's own keys (a table's cursor...): "In lists" says them once
        what = binding.tooltip or binding.description
        if binding.id and binding.id.startswith("nav.") and binding.description:
            what = f"{binding.description} — {binding.tooltip}"
        keys = app.get_key_display(binding)
        if (keys, what) in seen:
            continue
        seen.add((keys, what))
        line = KeyLine(
            keys, what if active.enabled else f"{what} (not available here)", binding.id or ""
        )
        (everywhere if active.node is app else here).append(line)
    return here, everywhere


KEYS_WIDTH = 14
GAP = "  "


def key_table(title: str, lines: list[KeyLine] | tuple[KeyLine, ...], width: int) -> Content:
    """A titled table of keys at ``width`` cells: keys, what they do (wrapped), binding id."""
    keys_width = max([KEYS_WIDTH, *(cell_len(line.keys) for line in lines)])
    id_width = max([0, *(cell_len(line.binding_id) for line in lines)])
    what_width = max(10, width - keys_width - id_width - 2 * len(GAP))
    parts: list[str | tuple[str, str]] = [(title, "italic")]
    for line in lines:
        what = textwrap.wrap(line.what, what_width) or [""]
        keys = line.keys + " " * (keys_width - cell_len(line.keys))
        parts += ["\n", (keys, "bold"), GAP, what[0]]
        if line.binding_id:
            parts += [" " * (what_width - len(what[0])), GAP, (line.binding_id, "dim")]
        for more in what[1:]:
            parts += ["\n", " " * keys_width, GAP, more]
    return Content.assemble(*parts)


class KeyTable(Widget):
    """``key_table`` laid out once per width: cheap to measure and to draw, unlike a Rich
    table, which the help screen's layouts (with and without a scroll bar) rendered 4 times
    over (96 of the first visit's 123 ms of CPU)."""

    DEFAULT_CSS = "KeyTable { height: auto; margin-bottom: 1; }"

    def __init__(self, title: str, lines: list[KeyLine] | tuple[KeyLine, ...]) -> None:
        super().__init__()
        self.title, self.lines = title, lines
        self._laid: tuple[int, Content] = (-1, Content(""))

    def _at(self, width: int) -> Content:
        if self._laid[0] != width:
            self._laid = (width, key_table(self.title, self.lines, width))
        return self._laid[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._at(width).plain.splitlines())

    def render(self) -> Content:
        return self._at(self.size.width)


class HelpScreen(StyledOnMount, ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
        scrollbar-gutter: stable;  /* one layout: not one without, then one with the scroll bar */
    }
    HelpScreen Static {
        margin-bottom: 1;
    }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape,question_mark,q", "close", "Close", id="help.close", tooltip="Close help"),
    ]

    def __init__(self, here: list[KeyLine], everywhere: list[KeyLine]) -> None:
        super().__init__()
        self.here, self.everywhere = here, everywhere

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("[b $primary]Keys[/]  (remap any of them by id in config.toml \\[keymap])")
            if self.here:
                yield KeyTable("This screen", self.here)
            yield KeyTable("Everywhere", self.everywhere)
            yield KeyTable("In lists", LIST_KEYS)
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
