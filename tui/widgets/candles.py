"""A candlestick chart with a strategy's entries and exits marked.

One column a bar (two, with a gap, when there is room); a rising bar's body is ``┃`` and a
falling one's ``█``, so the direction reads without colour (NO_COLOR). An entry is ``▲`` under
its bar's low, an exit ``▼`` over its high; the top and bottom rows are kept for them.

More candles than columns are either folded, so the whole span shows (a backtest's period), or
cut to the newest that fit (``recent``: a live market, one candle a column up to now).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from core.market.ohlc import Bar, CandleLike, Side, TradeMark, fold, place_marks
from tui import format as fmt

WICK, RISING, FALLING = "│", "┃", "█"
BUY, SELL = "▲", "▼"


@dataclass(frozen=True, slots=True)
class Cell:
    char: str
    kind: str  # "up" | "down" | "buy" | "sell" | ""


BLANK = Cell(" ", "")


def layout(
    bars: Sequence[Bar], marks: dict[int, set[Side]], height: int, step: int
) -> list[list[Cell]]:
    """The plot as ``height`` rows of cells, top row first; bar ``i`` in column ``i * step``."""
    width = len(bars) * step
    grid = [[BLANK] * width for _ in range(height)]
    if not bars or height < 3:
        return grid
    top = max(b.high for b in bars)
    bottom = min(b.low for b in bars)
    span = top - bottom
    rows = height - 2  # the first and last rows hold the marks

    def row(price: Decimal) -> int:
        if not span:
            return 1 + rows // 2
        return 1 + round((top - price) / span * (rows - 1))

    for i, bar in enumerate(bars):
        x, kind = i * step, "up" if bar.rising else "down"
        high, low = row(bar.high), row(bar.low)
        body_top, body_bottom = sorted((row(bar.open), row(bar.close)))
        for y in range(high, low + 1):
            body = body_top <= y <= body_bottom
            grid[y][x] = Cell((RISING if bar.rising else FALLING) if body else WICK, kind)
        sides = marks.get(i, set())
        if "sell" in sides:
            grid[high - 1][x] = Cell(SELL, "sell")
        if "buy" in sides:
            grid[low + 1][x] = Cell(BUY, "buy")
    return grid


class CandleChart(Widget):
    """Candles (oldest first) with trade marks, the price range on the left, time span below."""

    DEFAULT_CSS = """
    CandleChart {
        height: 14;
    }
    CandleChart > .candle-chart--axis { color: $text-muted; }
    CandleChart > .candle-chart--up { color: $success; }
    CandleChart > .candle-chart--down { color: $error; }
    CandleChart > .candle-chart--buy { color: $accent; text-style: bold; }
    CandleChart > .candle-chart--sell { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {  # noqa: RUF012
        "candle-chart--axis",
        "candle-chart--up",
        "candle-chart--down",
        "candle-chart--buy",
        "candle-chart--sell",
    }

    def __init__(
        self, *, empty: str = "No candles yet", recent: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._empty = empty
        self._recent = recent
        self._candles: tuple[CandleLike, ...] = ()
        self._marks: tuple[TradeMark, ...] = ()

    def set_data(
        self,
        candles: Sequence[CandleLike],
        marks: Sequence[TradeMark] = (),
        *,
        empty: str | None = None,
    ) -> None:
        """Show ``candles`` and ``marks``; ``empty`` replaces what an empty chart says."""
        self._candles, self._marks = tuple(candles), tuple(marks)
        if empty is not None:
            self._empty = empty
        self.refresh()

    def _style(self, kind: str) -> Style:
        return self.get_component_rich_style(f"candle-chart--{kind}")

    def render(self) -> Text:
        width, height = self.content_size
        axis = self._style("axis")
        candles = self._candles
        if not candles:
            return Text(self._empty, style=axis)
        gutter = max(len(fmt.price(c.high)) for c in candles) + 1  # wide enough for any label
        plot_w, plot_h = max(1, width - gutter), max(3, height - 1)
        if self._recent:
            candles = candles[-plot_w:]
        step = 2 if len(candles) * 2 <= plot_w else 1
        bars = fold(candles, plot_w // step)
        labels = [fmt.price(max(b.high for b in bars)), fmt.price(min(b.low for b in bars))]
        grid = layout(bars, place_marks(bars, self._marks), plot_h, step)
        styles = {k: self._style(k) for k in ("up", "down", "buy", "sell")}
        out = Text(no_wrap=True, overflow="crop")
        for y, cells in enumerate(grid):
            # labels beside the highest high and the lowest low (the rows under and over the marks)
            label = labels[0] if y == 1 else labels[1] if y == plot_h - 2 else ""
            out.append(label.rjust(gutter - 1)[: gutter - 1] + " ", style=axis)
            for cell in cells:
                out.append(cell.char, style=styles.get(cell.kind, Style()))
            out.append("\n")
        start, end = fmt.when(bars[0].start), fmt.when(bars[-1].start)
        room = len(bars) * step - len(start) - len(end)
        span = start + " " * room + end if room > 0 else end  # too narrow: where it ends
        out.append(" " * gutter + span, style=axis)
        return out
