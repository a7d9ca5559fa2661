"""An area chart in eighth blocks with its range on the left and the time span below.

Fed with ``(time, value)`` points; values become floats here only, for drawing. The chart fits
whatever size its container gives it, so it collapses gracefully at 80x24.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def area_lines(values: Sequence[float], width: int, height: int) -> list[str]:
    """``values`` as a filled area over ``width`` x ``height`` cells, oldest on the left; each
    cell holds eighths of a block, so a column has ``height * 8`` levels. The lowest value keeps
    one eighth, so a flat series still shows."""
    if width <= 0 or height <= 0:
        return []
    if not values:
        return [" " * width for _ in range(height)]
    low, high = min(values), max(values)
    span = high - low
    levels = height * 8
    n = len(values)
    columns = []
    for x in range(width):
        # many points per column: the column's last; fewer: each point stretched
        v = values[((x + 1) * n) // width - 1 if n >= width else (x * n) // width]
        columns.append(1 + round((v - low) / span * (levels - 1)) if span else levels // 2)
    rows = []
    for row in range(height - 1, -1, -1):  # top row first
        base = row * 8
        rows.append("".join(_EIGHTHS[max(0, min(8, h - base))] for h in columns))
    return rows


class LineChart(Widget):
    """``points`` (oldest first) as a braille line with min/max and the time span."""

    DEFAULT_CSS = """
    LineChart {
        height: 8;
        color: $primary;
    }
    LineChart > .line-chart--axis {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"line-chart--axis"}  # noqa: RUF012

    points: reactive[tuple[tuple[datetime, Decimal], ...]] = reactive(tuple, layout=False)

    def __init__(self, *, empty: str = "No data yet", **kwargs) -> None:
        super().__init__(**kwargs)
        self._empty = empty

    def set_points(self, points: Sequence[tuple[datetime, Decimal]]) -> None:
        self.points = tuple(points)

    def render(self) -> Text:
        width, height = self.content_size
        axis = self.get_component_rich_style("line-chart--axis")
        if not self.points:
            return Text(self._empty, style=axis)
        values = [p[1] for p in self.points]
        labels = [fmt.money(max(values)), fmt.money(min(values))]
        gutter = max(len(label) for label in labels) + 1
        plot_w, plot_h = max(1, width - gutter), max(1, height - 1)
        lines = area_lines([float(v) for v in values], plot_w, plot_h)
        out = Text(no_wrap=True, overflow="crop")
        for row, line in enumerate(lines):
            label = labels[0] if row == 0 else labels[1] if row == plot_h - 1 else ""
            out.append(label.rjust(gutter - 1) + " ", style=axis)
            out.append(line)
            out.append("\n")
        first, last = self.points[0][0], self.points[-1][0]
        start, end = fmt.when(first), fmt.when(last)
        pad = max(1, plot_w - len(start) - len(end))
        out.append(" " * gutter + start + " " * pad + end, style=axis)
        return out


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[Decimal | float], width: int = 12) -> str:
    """A one-line sparkline of the last ``width`` values (for a table cell)."""
    tail = [float(v) for v in values][-width:]
    if not tail:
        return ""
    low, high = min(tail), max(tail)
    span = high - low
    if span == 0:
        return _BARS[3] * len(tail)
    return "".join(_BARS[min(7, int((v - low) / span * 7.999))] for v in tail)
