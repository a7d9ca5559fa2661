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

from tui.compact import COMPACT_CLASS, compact


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
