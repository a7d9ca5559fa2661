"""``tui.widgets.choice.Choice`` is a ``Select`` whose option list is mounted when it first
opens: before that it shows what a ``Select`` shows, and opened by key or click it is chosen
from as one, with the same ``Changed`` messages; ``set_options`` and ``value`` work before and
after it opened. No database: a tiny app with the two side by side."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from tui.compact import compact
from tui.widgets.choice import Choice

OPTIONS = [("market", "market"), ("limit", "limit"), ("stop", "stop")]


class Pair(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[str, object]] = []

    def compose(self) -> ComposeResult:
        yield compact(Choice[str](OPTIONS, value="market", allow_blank=False, id="ours"))
        yield compact(Select[str](OPTIONS, value="market", allow_blank=False, id="theirs"))
        yield compact(Choice[str](OPTIONS, prompt="any type", id="blank"))
        yield compact(Select[str](OPTIONS, prompt="any type", id="blank-theirs"))

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changes.append((event.select.id or "", event.value))


def line(app: App[None], selector: str) -> str:
    """The control's line as drawn (its first row on screen)."""
    widget = app.query_one(selector)
    return "".join(s.text for s in app.screen._compositor.render_strips()[widget.region.y])[
        widget.region.x : widget.region.right
    ]


async def test_a_choice_looks_as_a_select_and_has_no_list_until_it_opens() -> None:
    app = Pair()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        ours, theirs = app.query_one("#ours", Select), app.query_one("#theirs", Select)
        assert isinstance(ours, Choice)
        assert not ours.query(SelectOverlay) and theirs.query(SelectOverlay)
        assert line(app, "#ours") == line(app, "#theirs")
        assert "market" in line(app, "#ours")
        assert line(app, "#blank") == line(app, "#blank-theirs")
        assert "any type" in line(app, "#blank")
        # Each said its first value once, as a Select does.
        assert app.changes.count(("ours", "market")) == app.changes.count(("theirs", "market"))
        assert ours.value == "market" and app.query_one("#blank", Select).value is Select.NULL


async def test_a_choice_opens_with_enter_and_is_chosen_from_with_the_keys() -> None:
    app = Pair()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        ours = app.query_one("#ours", Choice)
        ours.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert ours.expanded and "▲" in line(app, "#ours") and "▼" not in line(app, "#ours")
        overlay = ours.query_one(SelectOverlay)
        assert overlay.option_count == len(OPTIONS) and overlay.highlighted == 0
        await pilot.press("down", "enter")
        await pilot.pause()
        assert ours.value == "limit" and not ours.expanded and "▼" in line(app, "#ours")
        assert "▲" not in line(app, "#ours")
        assert ("ours", "limit") in app.changes
        assert "limit" in line(app, "#ours")
        # Opened again, the list is the same one, highlighting the choice.
        await pilot.press("enter")
        await pilot.pause()
        assert len(ours.query(SelectOverlay)) == 1
        assert ours.query_one(SelectOverlay).highlighted == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not ours.expanded and ours.value == "limit"


async def test_a_choice_opens_on_a_click_and_takes_a_clicked_option() -> None:
    app = Pair()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        for selector in ("#ours", "#theirs"):
            control = app.query_one(selector, Select)
            await pilot.click(selector)
            await pilot.pause()
            assert control.expanded
            overlay = control.query_one(SelectOverlay)
            await pilot.click(overlay, offset=(2, 2))  # the third option (compact: no border)
            await pilot.pause()
            assert control.value == "stop" and not control.expanded


async def test_options_and_value_set_before_and_after_the_list_exists() -> None:
    app = Pair()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        blank = app.query_one("#blank", Choice)
        blank.set_options([("BTC/USDT", "btc"), ("ETH/USDT", "eth")])
        blank.value = "eth"
        await pilot.pause()
        assert ("blank", "eth") in app.changes and "ETH/USDT" in line(app, "#blank")
        blank.prompt = "any pair"
        blank.clear()
        await pilot.pause()
        assert blank.value is Select.NULL and "any pair" in line(app, "#blank")
        blank.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = blank.query_one(SelectOverlay)
        assert overlay.option_count == 3  # the blank line, then the two pairs
        await pilot.press("escape")
        blank.set_options([("SOL/USDT", "sol")])
        blank.value = "sol"
        await pilot.pause()
        assert overlay.option_count == 2 and "SOL/USDT" in line(app, "#blank")


async def test_a_key_and_a_click_at_once_make_one_list() -> None:
    app = Pair()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        ours = app.query_one("#ours", Choice)

        async def opened() -> tuple[SelectOverlay, int]:  # the list as each caller gets it
            overlay = await ours._make_overlay()
            return overlay, overlay.option_count

        (first, count), (second, second_count) = await asyncio.gather(opened(), opened())
        assert first is second and len(ours.query(SelectOverlay)) == 1
        assert count == second_count == len(OPTIONS)
