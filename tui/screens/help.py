"""``?``: every key that works here — the screen's own, the global ones and the list keys —
as the user has them (after ``[keymap]`` overrides), with the binding ids to remap them by."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
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


def _table(title: str, lines: list[KeyLine] | tuple[KeyLine, ...]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
    table.add_column("keys", style="bold", no_wrap=True, min_width=14)
    table.add_column("what", ratio=1)
    table.add_column("id", style="dim", no_wrap=True)
    for line in lines:
        table.add_row(line.keys, line.what, line.binding_id)
    return table


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
                yield Static(_table("This screen", self.here))
            yield Static(_table("Everywhere", self.everywhere))
            yield Static(_table("In lists", LIST_KEYS))
        yield KeyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
