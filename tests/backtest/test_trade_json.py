"""The trade list as JSON, built column by column, is what a dict and ``json.dumps`` per trade
would write, character for character."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D

from core.backtest.account import Trade
from core.backtest.trade_json import FIELDS, iso, iso_column, trade_dicts, trade_lines

HOUR = 3_600_000


def one_by_one(trade: Trade) -> dict:
    """The report's trade as it was written before the columns: a dict per trade."""
    return {
        "entry_time": iso(trade.entry_ms),
        "entry_price": str(trade.entry_price),
        "exit_time": iso(trade.exit_ms),
        "exit_price": str(trade.exit_price),
        "quantity": str(trade.quantity),
        "pnl": str(trade.pnl),
        "pnl_pct": str(trade.pnl_pct),
        "fees": str(trade.fees),
        "exit_reason": trade.exit_reason,
        "exits": trade.exits,
        "entries": trade.entries,
    }


TRADES = [
    Trade(1_700_000_000_000, D("100.5"), D("0.123456789012345678"), 1_700_000_000_000 + HOUR,
          D("101"), D("0.06172839"), D("0.0614"), D("0.00002497"), "SIGNAL", 1),
    Trade(1_700_000_000_123, D("1E+2"), D("3"), 1_700_000_001_999, D("99.99"),
          D("-0E-8"), D("-0E-4"), D("0"), "STOP_LOSS", 2, 3),
    Trade(-86_400_000, D("0.00001052"), D("1000000"), 0, D("0.00001"), D("-0.52"),
          D("-4.9429"), D("0.00000002"), "TAKE_PROFIT", 1),
]  # fmt: skip


def test_every_trade_reads_as_it_did_one_by_one() -> None:
    expected = [one_by_one(t) for t in TRADES]
    assert trade_dicts(TRADES) == expected
    assert [list(d) for d in trade_dicts(TRADES)] == [list(FIELDS)] * len(TRADES)
    lines = trade_lines(TRADES)
    assert lines == [json.dumps(item, separators=(", ", ": ")) for item in expected]
    assert [json.loads(line) for line in lines] == expected


def test_times_as_isoformat_writes_them() -> None:
    stamps = [0, 1, 999, 1000, -1, -86_400_001, 1_700_000_000_000, 253_402_300_799_000]
    expected = [
        datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
        for ms in stamps
    ]
    assert iso_column(stamps) == expected == [iso(ms) for ms in stamps]
    assert iso_column([5_000]) == ["1970-01-01T00:00:05Z"]
    assert iso_column([5_250]) == ["1970-01-01T00:00:05.250000Z"]


def test_no_trades() -> None:
    assert trade_dicts([]) == [] and trade_lines([]) == []
