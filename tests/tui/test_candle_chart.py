"""The candlestick widget alone (no database): its layout and how it looks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from textual.app import App, ComposeResult

from core.market.ohlc import TradeMark, fold, place_marks
from core.market.types import Candle
from tui.widgets.candles import BUY, FALLING, RISING, SELL, WICK, CandleChart, layout

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _candles(n: int) -> list[Candle]:
    out, price = [], Decimal(100)
    for i in range(n):  # a rise, a fall, a rise: both directions and wicks
        move = Decimal(3) if (i // 8) % 2 == 0 else Decimal(-2)
        o, c = price, price + move
        out.append(Candle(T0 + i * HOUR, o, max(o, c) + 1, min(o, c) - 1, c, Decimal(1)))
        price = c
    return out


def test_layout_draws_bodies_wicks_and_marks() -> None:
    candles = [
        Candle(T0, Decimal(10), Decimal(14), Decimal(8), Decimal(13), Decimal(1)),  # rising
        Candle(T0 + HOUR, Decimal(13), Decimal(13), Decimal(9), Decimal(10), Decimal(1)),
    ]
    bars = fold(candles, 10)
    marks = place_marks(
        bars, [TradeMark(T0, "buy", Decimal(10)), TradeMark(T0 + HOUR, "sell", Decimal(12))]
    )
    grid = layout(bars, marks, height=9, step=2)
    column = ["".join(row[0].char for row in grid), "".join(row[2].char for row in grid)]
    # rows 1..7 are 14 .. 8, a unit each: the rising bar's wick at 14, body 13..10, wick down
    # to 8, the buy under it
    assert column[0] == f" {WICK}{RISING * 4}{WICK}{WICK}{BUY}"
    # the falling bar: the sell over its high (13), body 13..10, wick to 9
    assert column[1] == f" {SELL}{FALLING * 4}{WICK}  "
    assert {c.kind for c in (grid[2][0], grid[3][2])} == {"up", "down"}
    assert all(cell.char == " " for row in grid for cell in row[1::2])  # the gaps


class ChartApp(App[None]):
    CSS = "CandleChart { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield CandleChart(id="chart")

    def on_mount(self) -> None:
        candles = _candles(40)
        marks = [
            TradeMark(T0 + 2 * HOUR, "buy", candles[2].close),
            TradeMark(T0 + 7 * HOUR, "sell", candles[7].close),
            TradeMark(T0 + 17 * HOUR, "buy", candles[17].close),
            TradeMark(T0 + 30 * HOUR, "sell", candles[30].close),
        ]
        self.query_one(CandleChart).set_data(candles, marks)


def test_candle_chart_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(ChartApp(), terminal_size=(100, 16))


def test_candle_chart_folds_to_a_narrow_terminal(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(ChartApp(), terminal_size=(40, 12))


async def test_no_candles_says_so() -> None:
    app = ChartApp()
    async with app.run_test(size=(60, 10)) as pilot:
        chart = app.query_one(CandleChart)
        chart.set_data([])
        await pilot.pause()
        assert "No candles yet" in str(chart.render())
