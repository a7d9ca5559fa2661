"""Parsed CSS is shared by every app of the process under the same variables (a test worker
starts hundreds of apps), and kept apart per set of variables, so a theme still gets its own
colours."""

from __future__ import annotations

from typing import Any

import pytest
from textual.color import Color
from textual.css import stylesheet as textual_stylesheet

from tui import stylesheet

CSS = "Screen { background: $panel; }"
WHERE = ("test_stylesheet_cache.py", "CSS")


def background(sheet: stylesheet.AppStylesheet) -> Color:
    sheet.add_source(CSS, read_from=WHERE)
    sheet.parse()
    [rule] = [r for r in sheet.rules if r.selector_names == {"Screen"}]
    return rule.styles.background


def test_apps_share_rules_per_set_of_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[Any] = []
    real_parse = textual_stylesheet.parse

    def counting_parse(scope: str, css: str, read_from: Any, **kwargs: Any) -> Any:
        parsed.append(read_from)
        return real_parse(scope, css, read_from, **kwargs)

    monkeypatch.setattr(textual_stylesheet, "parse", counting_parse)
    monkeypatch.setattr(stylesheet, "_parsed", {})
    red, blue = {"panel": "#ff0000"}, {"panel": "#0000ff"}

    first = stylesheet.AppStylesheet(variables=dict(red))
    assert background(first) == Color.parse("#ff0000") and parsed == [WHERE]
    second = stylesheet.AppStylesheet(variables=dict(red))  # the next app, same theme
    assert background(second) == Color.parse("#ff0000") and parsed == [WHERE]
    assert second.rules[0] is first.rules[0]

    other = stylesheet.AppStylesheet(variables=dict(blue))  # another theme: its own colours
    assert background(other) == Color.parse("#0000ff") and parsed == [WHERE, WHERE]

    # A theme change parses under the new variables and clears nothing another app shares.
    second.set_variables(dict(blue))
    second.reparse()
    assert second.rules[0].styles.background == Color.parse("#0000ff")
    first.reparse()
    assert first.rules[0].styles.background == Color.parse("#ff0000")
    assert parsed == [WHERE, WHERE]


def test_only_the_latest_sets_of_variables_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stylesheet, "_parsed", {})
    caches = [stylesheet.parsed_under({"n": str(n)}) for n in range(stylesheet.VARIABLE_SETS + 2)]
    assert len(stylesheet._parsed) == stylesheet.VARIABLE_SETS
    assert stylesheet.parsed_under({"n": "0"}) is not caches[0]  # the oldest went first
    assert stylesheet.parsed_under({"n": str(stylesheet.VARIABLE_SETS + 1)}) is caches[-1]
