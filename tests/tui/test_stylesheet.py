"""The app's stylesheet: first visits parse no screen CSS again, and don't restyle the app.

Textual re-parses every CSS source and restyles every screen when a screen brings a CSS file
or a new mode starts; ``tui.stylesheet`` parses each source once (the screens' files behind
the first screen, in a thread) and restyles another screen only when it is shown again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.css import stylesheet as textual_stylesheet

from core.db.engine import Database
from tests.tui.auth_helpers import settle
from tests.tui.dash_helpers import signed_in, trader
from tui import stylesheet
from tui.screens.overview import OverviewScreen
from tui.screens.trades import TradesScreen


async def test_first_visits_parse_no_screen_css_and_restyle_only_their_own(
    db: Database, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await trader(db, history=False)
    monkeypatch.setattr(stylesheet, "_parsed", {})  # nothing parsed by the process's other apps
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        assert isinstance(app.screen, OverviewScreen)
        sheet = app.stylesheet
        assert isinstance(sheet, stylesheet.AppStylesheet)
        # Every screen's file was parsed behind the first screen (into the cache only).
        cached = {key[1][0] for key in sheet._parse_cache}
        assert {str(p) for p in stylesheet.screen_css_paths()} <= cached
        assert not sheet.has_source(str(stylesheet.TUI / "screens" / "trades.tcss"), "")

        parsed: list[Any] = []
        restyled: list[Any] = []
        real_parse, real_update = textual_stylesheet.parse, sheet.update

        def counting_parse(scope: str, css: str, read_from: Any, **kwargs: Any) -> Any:
            parsed.append(read_from)
            return real_parse(scope, css, read_from, **kwargs)

        def counting_update(root: Any, animate: bool = False) -> None:
            restyled.append(root)
            real_update(root, animate=animate)

        monkeypatch.setattr(textual_stylesheet, "parse", counting_parse)
        monkeypatch.setattr(sheet, "update", counting_update)
        overview = app.screen
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, TradesScreen)
        # The trades screen's file is in now, as Textual would have it, but nothing was parsed
        # again (new widget types' own default CSS aside) and nothing else was restyled.
        assert sheet.has_source(str(stylesheet.TUI / "screens" / "trades.tcss"), "")
        assert not [r for r in parsed if str(r[0]).endswith(".tcss")]
        assert len(parsed) == len(set(parsed))
        assert overview not in restyled and app not in restyled

        # Shown again, the overview is restyled once, with the rules the trades screen brought.
        await pilot.press("1")
        await settle(pilot)
        assert app.screen is overview and restyled.count(overview) == 1
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert restyled.count(overview) == 1  # nothing new since


async def test_a_new_screen_is_styled_as_it_mounts_not_again_when_first_shown(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """Textual restyles a whole screen each time it is shown (twice for a new mode's screen);
    a new screen's nodes were styled as they mounted, so its first showing restyles none of
    them, and a later showing restyles it as Textual does."""
    from textual.screen import Screen

    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        whole: list[tuple[Screen[Any], int]] = []  # a screen restyled, with how many nodes
        real_update_styles = app.update_styles

        def spying(node: Any, animate: bool = True) -> None:
            if isinstance(node, Screen):
                whole.append((node, len(list(node.walk_children(with_self=True)))))
            real_update_styles(node, animate=animate)

        app.update_styles = spying  # type: ignore[method-assign]
        await pilot.press("4")
        await settle(pilot)
        trades = app.screen
        assert isinstance(trades, TradesScreen)
        # Only the screen itself, before its children: once its CSS file is read.
        assert [n for screen, n in whole if screen is trades] == [1]
        # Styled all the same: the rules of trades.tcss are on its nodes.
        assert trades.query_one("#filters").styles.grid_size_columns == 7
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        again = [n for screen, n in whole if screen is trades][1:]
        assert len(again) == 1 and again[0] > 20  # shown again: Textual's restyle, every node
