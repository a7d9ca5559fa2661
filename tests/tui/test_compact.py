"""``tui.compact.compact`` makes a control compact as ``compact=True`` does, without Textual
restyling it in its constructor (before it is in the DOM): once mounted the two look the same,
and building an empty Input, a Select or a Checkbox inside ``compose`` styles nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widgets import Button, Checkbox, Input, Select

from tui.compact import COMPACT_CLASS, compact, filled


class Pair(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.built: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        applied = count_applies()
        yield compact(Input(id="ours-input"))
        yield compact(Select([("a", "a")], value="a", id="ours-select"))
        yield compact(Checkbox("yes", id="ours-check"))
        self.built["ours"] = applied()
        applied = count_applies()
        yield Input(id="theirs-input", compact=True)
        yield Select([("a", "a")], value="a", id="theirs-select", compact=True)
        yield Checkbox("yes", id="theirs-check", compact=True)
        self.built["theirs"] = applied()
        # A button restyles itself for its variant anyway: the same look is what counts.
        yield compact(Button("Go", id="ours-button"))
        yield Button("Go", id="theirs-button", compact=True)


def count_applies() -> Callable[[], int]:
    """A counter of ``Stylesheet.apply`` calls from now on (read by calling it)."""
    calls = [0]
    original = Stylesheet.apply

    def counted(self: Stylesheet, node: DOMNode, **kwargs: Any) -> None:
        calls[0] += 1
        original(self, node, **kwargs)

    Stylesheet.apply = counted  # type: ignore[method-assign]

    def read() -> int:
        Stylesheet.apply = original  # type: ignore[method-assign]
        return calls[0]

    return read


async def test_compact_controls_look_the_same_and_are_not_styled_before_they_mount() -> None:
    app = Pair()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert app.built["ours"] == 0 and app.built["theirs"] > 0
        for kind in ("input", "select", "check", "button"):
            ours, theirs = app.query_one(f"#ours-{kind}"), app.query_one(f"#theirs-{kind}")
            assert ours.compact and ours.has_class(COMPACT_CLASS)  # type: ignore[attr-defined]
            assert ours.size == theirs.size, kind
            assert ours.styles.border == theirs.styles.border, kind


class Filled(App[None]):
    """An Input with a starting value built by ``filled`` and by Textual, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.built: dict[str, int] = {}
        self.changed: list[str] = []

    def compose(self) -> ComposeResult:
        applied = count_applies()
        yield filled("10000", id="ours", max_length=12)
        yield filled("", id="ours-empty", placeholder="empty: none")
        self.built["ours"] = applied()
        applied = count_applies()
        yield Input("10000", id="theirs", max_length=12, compact=True)
        yield Input("", id="theirs-empty", placeholder="empty: none", compact=True)
        self.built["theirs"] = applied()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.changed.append(event.input.id or "")


async def test_a_filled_input_holds_its_value_as_textuals_and_restyles_nothing_as_it_is_built() -> (
    None
):
    app = Filled()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        assert app.built["ours"] == 0 and app.built["theirs"] > 0
        for ours_id, theirs_id in (("#ours", "#theirs"), ("#ours-empty", "#theirs-empty")):
            ours, theirs = app.query_one(ours_id, Input), app.query_one(theirs_id, Input)
            assert ours.value == theirs.value and ours.classes == theirs.classes
            assert ours.cursor_position == theirs.cursor_position and ours.compact
            assert ours.size == theirs.size
        assert app.changed.count("ours") == app.changed.count("theirs") == 1
        for field_id in ("#ours", "#theirs"):  # focus selects the value; typing replaces it
            app.query_one(field_id, Input).focus()
            await pilot.press("end", "5")
        assert app.query_one("#ours", Input).value == app.query_one("#theirs", Input).value
        assert app.query_one("#ours", Input).value == "100005"
