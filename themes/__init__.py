"""Themes shipped with BlockbotX. P&L colours come from the ``profit``/``loss`` variables."""

from __future__ import annotations

from textual.theme import Theme

BLOCKBOTX_DARK = Theme(
    name="blockbotx-dark",
    primary="#4FB3FF",
    secondary="#7C8CFF",
    accent="#FFB454",
    foreground="#D8DEE9",
    background="#0E1117",
    surface="#161B22",
    panel="#1F2630",
    success="#3FB950",
    warning="#D29922",
    error="#F85149",
    dark=True,
    variables={"profit": "#3FB950", "loss": "#F85149", "footer-key-foreground": "#4FB3FF"},
)

BLOCKBOTX_LIGHT = Theme(
    name="blockbotx-light",
    primary="#0969DA",
    secondary="#6639BA",
    accent="#BF8700",
    foreground="#1F2328",
    background="#FFFFFF",
    surface="#F6F8FA",
    panel="#EAEEF2",
    success="#1A7F37",
    warning="#9A6700",
    error="#CF222E",
    dark=False,
    variables={"profit": "#1A7F37", "loss": "#CF222E", "footer-key-foreground": "#0969DA"},
)

THEMES = (BLOCKBOTX_DARK, BLOCKBOTX_LIGHT)
DEFAULT_THEME = BLOCKBOTX_DARK.name

__all__ = ["BLOCKBOTX_DARK", "BLOCKBOTX_LIGHT", "DEFAULT_THEME", "THEMES"]
