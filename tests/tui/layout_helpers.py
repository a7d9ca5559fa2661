"""What the terminal would show: the composed screen as lines of text, and the colours of a
widget's cells as a terminal of a given colour depth prints them.

``screen_lines`` reads the same compositor output a snapshot does, so a test can assert on
what a person sees (a clipped placeholder, a key without its label, a box edge one column off)
rather than on widget attributes.
"""

from __future__ import annotations

import io
from typing import Any

from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual.app import App
from textual.widget import Widget


def screen_lines(app: App[Any]) -> list[str]:
    """The whole screen (with any modal over it) as plain text, one string per terminal row."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    text = console.export_text(styles=False)
    return text.split("\n")[:height]


def cell_styles(app: App[Any], widget: Widget, system: ColorSystem) -> list[tuple[str, str]]:
    """The (foreground, background) of every cell of ``widget``'s region as a terminal with
    ``system`` colours shows them (Rich downgrades each truecolor to the nearest it has, as
    the app's console does when writing to such a terminal)."""
    region = widget.region
    lines = app.screen._compositor.render_strips()
    out: list[tuple[str, str]] = []
    for y in range(region.y, region.bottom):
        x = 0
        for segment in lines[y]:
            if segment.control:
                continue
            style = segment.style or Style()
            for _ in segment.text:
                if region.x <= x < region.right:
                    out.append((_colour(style.color, system), _colour(style.bgcolor, system)))
                x += 1
    return out


def _colour(color: Any, system: ColorSystem) -> str:
    if color is None:
        return "default"
    return str(color.downgrade(system).get_ansi_codes())
