"""The app's stylesheet: CSS parsed once per source, and a first visit restyles only its screen.

Textual, as shipped, makes a screen's first visit pay for the whole stylesheet:

- a screen bringing a CSS file not read yet re-parses every source (every widget's default CSS
  too) in a fresh stylesheet and restyles every node of the app;
- a new mode's screen is "out of date" (``_css_update_count``), so switching to it does the
  same again through ``refresh_css``, though no variable changed;
- the parsed rules are kept in an LRU cache of 64 sources, fewer than the app has, so once it
  is full each new widget type (its default CSS is one more source) re-parses them all.

Here parsed rules are kept for every source and re-used by a re-parse while the variables are
unchanged (a theme change still re-parses everything, as it must), and by every app of the process
under the same variables (a test worker starts hundreds of apps); a new screen starts up to
date (its nodes are styled when they mount); a screen's CSS file, added on its first visit as
in Textual (screens' files share class names: loading them all at once would change how
screens look), restyles the other screens only when they are shown again; and every screen's
``.tcss`` is parsed behind the first screen, in a thread (``preload``: parsing them before the
first frame would double the start-up). A first visit then styles its own nodes only, and
each of them once: a new screen's first showing skips Textual's restyle of the whole screen
(``StyledOnMount``): the largest share of a first visit's styling (Settings, under cProfile:
0.88 of the 2.2 s spent in ``Stylesheet.apply``).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from tui.relayout import OneLayoutPerSize

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

# Textual's ``RuleSet.__hash__`` is ``id(self)`` in Python, and styling a node tests every rule
# of the stylesheet for membership in a set: about 50,000 calls in the Admin screen's first
# visit. The built-in identity hash is the same relation (a rule equals only itself in a set)
# without the Python call.
RuleSet.__hash__ = object.__hash__  # type: ignore[method-assign]

TUI = Path(os.path.abspath(__file__)).parent  # as Textual names screens' files
VARIABLE_SETS = 8
"""Sets of variables (themes) whose parsed rules the process keeps, the oldest dropped first."""

Parsed = list[tuple[tuple[str, str], str, list[RuleSet]]]
ParseCache = dict[tuple[Any, ...], list[RuleSet]]
"""Textual's parse-cache key (the source's text, location, defaults flag, tie-breaker and scope)
-> its rules. A plain dict: the screens' files are parsed into it from a thread (``preload``)."""

_parsed: dict[frozenset[tuple[str, str]], ParseCache] = {}


def parsed_under(variables: dict[str, str]) -> ParseCache:
    """The process's parsed rules under ``variables``: the rules depend on nothing else, and
    Textual doesn't change a rule set once parsed, so any app with these variables may share
    them (the next app of the process parses nothing again)."""
    key = frozenset(variables.items())
    cache = _parsed.get(key)
    if cache is None:
        for oldest in list(_parsed)[: max(0, len(_parsed) + 1 - VARIABLE_SETS)]:
            _parsed.pop(oldest, None)
        cache = _parsed.setdefault(key, {})
    return cache


def screen_css_paths() -> list[Path]:
    """Every screen's and dialog's CSS file (``app.tcss`` is the app's own ``CSS_PATH``), in a
    fixed order."""
    return sorted(p for p in TUI.rglob("*.tcss") if p.name != "app.tcss")


class AppStylesheet(Stylesheet):
    """A Textual ``Stylesheet`` that parses each source once per set of variables, for every
    app of the process (``parsed_under``)."""

    _parse_cache: ParseCache  # type: ignore[assignment]  # Textual's is an LRU of 64 sources

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._parse_cache = parsed_under(self._variables)

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables == self._variables:
            return  # nothing to substitute again: the parsed rules stand
        self._parse_cache = {}  # Textual clears the cache it holds: not the shared one
        super().set_variables(variables)
        self._parse_cache = parsed_under(variables)

    def reparse(self) -> None:
        """As Textual's (a fresh stylesheet, so an error leaves this one as it was), with the
        rules already parsed under the same variables re-used."""
        fresh = AppStylesheet(variables=self._variables)
        fresh._parse_cache = self._parse_cache
        fresh.source = self.source.copy()
        fresh._require_parse = True
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self._require_parse = False

    def copy(self) -> AppStylesheet:
        stylesheet = AppStylesheet(variables=self._variables.copy())
        stylesheet.source = self.source.copy()
        return stylesheet


def install(app: App[Any]) -> None:
    """Give ``app`` this stylesheet (from its ``__init__``, once its theme is set)."""
    app.stylesheet = AppStylesheet(variables=app.get_css_variables())


def _parse_files(paths: list[Path], variables: dict[str, str]) -> Parsed:
    """Each file's location, text and rules, parsed under ``variables`` (any thread)."""
    sheet = AppStylesheet(variables=variables)
    out: Parsed = []
    for path in paths:
        css = path.read_text(encoding="utf-8")
        location = (os.path.abspath(path), "")
        out.append((location, css, sheet._parse_rules(css, read_from=location)))
    return out


async def preload(app: App[Any]) -> bool:
    """Parse every screen's CSS file in a thread, behind the first screen, into the parse cache
    only: a screen's first visit still adds its file (Textual's order, so the look doesn't
    change) but finds it parsed. False when the theme kept changing meanwhile."""
    sheet = app.stylesheet
    if not isinstance(sheet, AppStylesheet):
        return False
    for _ in range(3):  # the signed-in user's own theme may arrive meanwhile: parse again
        variables = dict(sheet._variables)
        parsed = await asyncio.to_thread(_parse_files, screen_css_paths(), variables)
        if app.stylesheet is not sheet:
            return False
        if sheet._variables == variables:
            break
    else:
        return False
    for location, css, rules in parsed:
        if not any(rule.errors for rule in rules):  # else Textual reports it on that visit
            sheet._parse_cache[(css, location, False, 0, "")] = rules
    return True


def load_screen_css(app: App[Any], screen: Screen[Any]) -> None:
    """Textual's ``App._load_screen_css`` without restyling every screen of the app: the new
    screen is styled as it mounts, and the others when next shown (``restyle_if_stale``)."""
    sheet = app.stylesheet
    update = False
    for path in screen.css_path:
        if not sheet.has_source(str(path), ""):
            sheet.read(path)
            update = True
    if screen.CSS:
        try:
            screen_path = inspect.getfile(screen.__class__)
        except (TypeError, OSError):
            screen_path = ""
        read_from = (screen_path, f"{screen.__class__.__name__}.CSS")
        if not sheet.has_source(*read_from):
            sheet.add_source(
                screen.CSS,
                read_from=read_from,
                is_default_css=False,
                scope=screen._css_type_name if screen.SCOPED_CSS else "",
            )
            update = True
    if update:
        sheet.reparse()
        _generation[app] = _generation.get(app, 0) + 1
    if not screen.is_mounted:
        # Textual styles a new screen as it registers, before its CSS is read here; its
        # children (composed later) get that CSS as they mount. ``StyledOnMount`` leaves out
        # the restyle of the first showing that would have put it right: the screen alone.
        screen.update_node_styles(animate=False)
    screen._bbx_css = _generation.get(app, 0)  # type: ignore[attr-defined]


def restyle_if_stale(app: App[Any], screen: Screen[Any]) -> None:
    """A screen shown again after another screen brought CSS: its nodes styled again."""
    current = _generation.get(app, 0)
    if getattr(screen, "_bbx_css", current) != current and screen.is_mounted:
        app.stylesheet.update(screen)
        screen._bbx_css = current  # type: ignore[attr-defined]


_generation: weakref.WeakKeyDictionary[App[Any], int] = weakref.WeakKeyDictionary()


def up_to_date(app: App[Any], screen: Screen[Any]) -> Screen[Any]:
    """A screen just built needs no ``refresh_css`` before it mounts (mounting styles it)."""
    screen._css_update_count = app._css_update_count
    return screen


class StyledOnMount(OneLayoutPerSize):
    """For a ``Screen``: its first showing doesn't restyle what was styled as it mounted.

    Textual restyles a screen's every node each time it is shown (``ScreenResume``), twice for
    a new mode's screen (from starting the mode and from switching to it), though a new screen's
    nodes were each styled as they mounted, under the stylesheet as it is. Later showings
    restyle as Textual does (a theme or CSS change while the screen was away). Textual calls
    every class's handler in MRO order, so this one sets the event before ``Screen``'s reads it.
    Nor is a screen laid out again at the size it was just laid out at (``OneLayoutPerSize``).
    """

    _bbx_suspended = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._bbx_suspended:
            event.refresh_styles = False

    def _on_screen_suspend(self) -> None:
        self._bbx_suspended = True
