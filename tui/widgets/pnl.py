"""Profit-and-loss text coloured by the theme's ``$profit`` / ``$loss`` variables.

Every theme in ``themes/`` defines both; a theme without them falls back to ``$success`` /
``$error``. The sign is always written, so the meaning survives NO_COLOR.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import App

from tui import format as fmt


def _colour(app: App, value: Decimal | None) -> str:
    if value is None or value == 0:
        return ""
    variables = app.theme_variables
    if value > 0:
        return variables.get("profit") or variables.get("success", "")
    return variables.get("loss") or variables.get("error", "")


def pnl_text(app: App, value: Decimal | None, *, percent: bool = False, places: int = 2) -> Text:
    """A DataTable cell: ``+12.50`` in the profit colour, ``-3.10`` in the loss colour."""
    text = fmt.percent(value, places=places) if percent else fmt.money(value, places, sign=True)
    return Text(text, style=_colour(app, value))


def pnl_markup(value: Decimal | None, *, percent: bool = False, places: int = 2) -> str:
    """The same for Static markup, resolved against the theme when rendered."""
    text = fmt.percent(value, places=places) if percent else fmt.money(value, places, sign=True)
    if value is None or value == 0:
        return text
    return f"[{'$profit' if value > 0 else '$loss'}]{text}[/]"
