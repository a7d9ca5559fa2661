"""OHLCV CSV files: a header row, a date/datetime column first (its name may be empty), then
open, high, low, close and volume in any letter case (other columns are ignored). Every bad
row is reported with its line number; nothing is imported from a file with an error.

A file on disk is read by the vectorised reader first (``csv_fast``: the same checks over whole
columns); this row parser reads it only when that one can't vouch for it, to name the bad line
and its number (or to read the unusual forms the fast reader leaves to it)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from core.errors import InvalidInput
from core.strategies.candles import Candles, timeframe_seconds

REQUIRED = ("open", "high", "low", "close", "volume")
MAX_ERRORS = 10


def _bad(line: int, message: str) -> InvalidInput:
    return InvalidInput(f"line {line}: {message}", field="csv")


def parse_time(text: str) -> int:
    """An ISO date or datetime (naive means UTC), or epoch seconds / milliseconds → epoch ms."""
    text = text.strip()
    if not text:
        raise ValueError("the date is empty")
    if text.lstrip("-").isdigit():
        value = int(text)
        return value if abs(value) >= 100_000_000_000 else value * 1000
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or datetime (use 2024-01-31 or 2024-01-31T13:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _number(text: str, name: str) -> tuple[Decimal, float]:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{name} {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{name} {text.strip()!r} is not a number")
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(
            f"{name} {text.strip()} has more precision than the backtester keeps "
            "(15 significant digits)"
        )
    return value, as_float


def read_csv(source: str | Path | io.TextIOBase, timeframe: str) -> Candles:
    """Parse and check a CSV file (a path, or an open text stream)."""
    step_ms = timeframe_seconds(timeframe) * 1000
    if isinstance(source, str | Path):
        from core.backtest.csv_fast import read_fast  # polars: loaded only to read a file

        fast = read_fast(source, step_ms)
        if fast is not None:
            return fast
        try:
            with open(source, newline="", encoding="utf-8-sig") as handle:
                return _parse(handle, step_ms, timeframe)
        except OSError as exc:
            raise InvalidInput(
                f"Can't read {source}: {exc.strerror or exc}.", field="csv"
            ) from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{source} is not a UTF-8 text file.", field="csv") from None
    return _parse(source, step_ms, timeframe)


def _columns(header: list[str]) -> list[int]:
    names = [h.strip().lower() for h in header]
    missing = [name for name in REQUIRED if name not in names[1:]]
    if missing:
        if header and _looks_like_data(header):
            raise _bad(1, "the first row must be a header: date, open, high, low, close, volume")
        raise _bad(1, f"the header has no {', '.join(missing)} column (found: {', '.join(header)})")
    return [names.index(name, 1) for name in REQUIRED]


def _looks_like_data(row: list[str]) -> bool:
    try:
        parse_time(row[0])
        return True
    except ValueError:
        return False


def _parse(handle, step_ms: int, timeframe: str) -> Candles:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The CSV file is empty.", field="csv") from None
    except csv.Error as exc:
        raise _bad(1, str(exc)) from None
    columns = _columns(header)
    width = len(header)
    ts: list[int] = []
    values: list[list[float]] = []
    errors: list[str] = []
    previous = None
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            try:
                if len(row) != width:
                    raise ValueError(f"expected {width} fields like the header, found {len(row)}")
                stamp = parse_time(row[0])
                parsed = [_number(row[c], name) for c, name in zip(columns, REQUIRED, strict=True)]
                o, h, low, c, v = (p[0] for p in parsed)
                if min(o, h, low, c) <= 0:
                    raise ValueError("prices must be above 0")
                if v < 0:
                    raise ValueError("volume can't be negative")
                if h < max(o, c, low) or low > min(o, c):
                    raise ValueError(f"high {h} / low {low} don't contain open {o} and close {c}")
                if previous is not None and stamp <= previous:
                    raise ValueError(
                        "dates must increase: this row is not after the one before "
                        "(duplicate or out of order)"
                    )
            except ValueError as exc:
                errors.append(f"line {line}: {exc}")
                if len(errors) >= MAX_ERRORS:
                    break
                continue
            previous = stamp
            ts.append(stamp)
            values.append([p[1] for p in parsed])
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: {exc}")
    if errors:
        more = " (stopped after 10 errors)" if len(errors) >= MAX_ERRORS else ""
        raise InvalidInput("; ".join(errors) + more, field="csv")
    if not ts:
        raise InvalidInput("The CSV file has a header but no candles.", field="csv")
    stamps = np.array(ts, dtype=np.int64)
    if len(stamps) > 1:
        spacing, _count = Counter(np.diff(stamps).tolist()).most_common(1)[0]
        if spacing != step_ms:
            raise InvalidInput(
                f"The candles are mostly {_duration(spacing)} apart, but the timeframe is "
                f"{timeframe} ({_duration(step_ms)}).",
                field="timeframe",
            )
    table = np.array(values, dtype=np.float64)
    return Candles.from_arrays(stamps, *table.T)


def _duration(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
