"""OHLCV candles as numpy arrays, and the one conversion from an array price back to money.

Prices live in float64 arrays because indicator maths (TA-Lib) needs them. Whenever a price
becomes money (a fill, a stop level, a report), it is read back with ``price_at`` as the
shortest decimal that round-trips the float: the CSV importer refuses prices with more precision
than that (more than 15 significant digits), so the decimal is exactly the price that was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from core.errors import InvalidInput

_TIMEFRAME = re.compile(r"^(\d+)([smhdwM])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000}


def timeframe_seconds(timeframe: str) -> int:
    """``1m``, ``15m``, ``1h``, ``4h``, ``1d``, ``1w``… as seconds (``M`` is a 30-day month)."""
    match = _TIMEFRAME.match(timeframe.strip()) if isinstance(timeframe, str) else None
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(
            f"Unknown timeframe {timeframe!r}: use a number and a unit, like 1m, 15m, 1h, 4h, 1d.",
            field="timeframe",
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def to_decimal(value: float) -> Decimal:
    """A float64 price as the shortest decimal that reads back as the same float."""
    text = repr(float(value))
    return Decimal(text[:-2] if text.endswith(".0") else text)


def decimals(values: np.ndarray) -> list[Decimal]:
    """``to_decimal`` over an array; each distinct price is converted once."""
    unique, where = np.unique(np.asarray(values, dtype=np.float64), return_inverse=True)
    converted = [
        Decimal(t[:-2]) if t[-2:] == ".0" else Decimal(t) for t in map(repr, unique.tolist())
    ]
    return [converted[k] for k in where.tolist()]


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def datetime_to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True, eq=False)
class Candles:
    """Candles in time order. ``ts`` is each candle's open time in epoch milliseconds (UTC)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_arrays(cls, ts, open, high, low, close, volume) -> Candles:
        arrays = [
            np.ascontiguousarray(a, dtype=np.float64) for a in (open, high, low, close, volume)
        ]
        stamps = np.ascontiguousarray(ts, dtype=np.int64)
        if any(len(a) != len(stamps) for a in arrays):
            raise InvalidInput("Candle columns have different lengths.")
        return cls(stamps, *arrays)

    @classmethod
    def from_rows(cls, rows) -> Candles:
        """From ``[ts_ms, open, high, low, close, volume]`` rows (numbers or decimal strings)."""
        if len(rows) == 0:
            return cls.from_arrays([], [], [], [], [], [])
        table = np.array([[float(x) for x in row[1:6]] for row in rows], dtype=np.float64)
        stamps = np.array([int(row[0]) for row in rows], dtype=np.int64)
        return cls.from_arrays(stamps, *table.T)

    def __len__(self) -> int:
        return len(self.ts)

    def __getitem__(self, index: slice) -> Candles:
        if not isinstance(index, slice):
            raise TypeError("Candles can only be sliced; use price_at / time_at for one candle")
        return Candles(
            self.ts[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            self.volume[index],
        )

    def time_at(self, i: int) -> datetime:
        return ms_to_datetime(self.ts[i])

    def rows(self) -> list[list]:
        """``[ts_ms, open, high, low, close, volume]`` with exact decimal strings (for JSON)."""
        columns = (self.open, self.high, self.low, self.close, self.volume)
        return [
            [int(t), *values]
            for t, *values in zip(self.ts.tolist(), *map(_texts, columns), strict=True)
        ]


def _texts(values: np.ndarray) -> list[str]:
    """``str(to_decimal(x))`` for each value, without a Decimal where ``repr`` already is that
    text (no exponent: ``repr`` less a trailing ``.0``)."""
    return [
        str(Decimal(r)) if "e" in r else r[:-2] if r.endswith(".0") else r
        for r in map(repr, np.asarray(values, dtype=np.float64).tolist())
    ]
