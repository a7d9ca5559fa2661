"""The vectorised CSV read (polars): the same checks as the row parser in ``csv_data``, over
whole columns at once.

It only ever *accepts*: a file it reads is one the row parser would read to the same candles.
Anything it can't prove (an unusual date or number form, a value with more than 15 significant
digits, a failed check, a ragged or unreadable file) returns None, and the row parser reads
the file again to name the bad line and its number, exactly as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from core.strategies.candles import Candles

REQUIRED = ("open", "high", "low", "close", "volume")
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_ZERO = r"^\s*[+-]?(?:0+\.?0*|\.0+)(?:[eE][+-]?\d+)?\s*$"
_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|\+00:00)?)?$"
_ISO_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
)
_ISO_FORMATS += ("%Y-%m-%d",)
MAX_DIGITS = 15
"""Up to 15 significant digits a decimal survives float64 and back unchanged (DBL_DIG)."""


def read_fast(path: str | Path, step_ms: int) -> Candles | None:
    """The file's candles when every fast check passes, else None (read it row by row)."""
    try:
        table = pl.read_csv(
            path,
            has_header=False,
            infer_schema=False,  # every cell as text: checked here, never guessed
            encoding="utf8",
            truncate_ragged_lines=False,
        )
    except Exception:  # unreadable, ragged, not UTF-8...: the row parser says what
        return None
    if table.height < 2 or table.null_count().sum_horizontal().item() != 0:
        return None  # empty, header only, short rows or blank cells
    header = [str(v).strip().lower() for v in table.row(0)]
    if header:
        header[0] = header[0].lstrip("\ufeff")
    try:
        columns = [header.index(name, 1) for name in REQUIRED]
    except ValueError:
        return None
    body = table.slice(1)
    stamps = _times(body.to_series(0))
    if stamps is None:
        return None
    values = [_numbers(body.to_series(c)) for c in columns]
    if any(v is None for v in values):
        return None
    o, h, low, c, v = (np.asarray(a) for a in values)
    if not _candles_ok(stamps, o, h, low, c, v, step_ms):
        return None
    return Candles.from_arrays(stamps, o, h, low, c, v)


def _times(text: pl.Series) -> np.ndarray | None:
    """Epoch seconds / milliseconds, or ISO datetimes (naive or ``Z`` / ``+00:00``: UTC)."""
    if text.str.contains(r"^\s*-?\d+\s*$").all():
        ints = text.str.strip_chars().cast(pl.Int64, strict=False)
        if ints.null_count():
            return None
        values = ints.to_numpy()
        return np.where(np.abs(values) >= 100_000_000_000, values, values * 1000)
    if text.str.contains("/", literal=True).any():
        text = text.str.replace_all("/", "-", literal=True)
    if not text.str.contains(_ISO).all():
        text = text.str.strip_chars()
        if not text.str.contains(_ISO).all():
            return None  # other forms (offsets, fractions, week dates): the row parser reads them
    first = str(text[0])
    suffix = "Z" if first.endswith("Z") else "+00:00" if first.endswith("+00:00") else ""
    for fmt in _ISO_FORMATS:
        parsed = text.str.strptime(pl.Datetime("ms"), fmt + suffix, strict=False)
        if parsed.null_count() == 0:
            return parsed.dt.epoch("ms").to_numpy()
    return None


def _numbers(text: pl.Series) -> np.ndarray | None:
    """Decimal numbers with at most 15 significant digits, as float64 (NaN, infinities and
    forms polars doesn't read are left to the row parser)."""
    values = text.cast(pl.Float64, strict=False)
    if values.null_count():
        text = text.str.strip_chars()  # surrounding spaces are allowed; try again without
        values = text.cast(pl.Float64, strict=False)
        if values.null_count():
            return None
    # a text of at most 15 characters has at most 15 digits: only longer ones are counted
    long = text.filter(text.str.len_bytes() > MAX_DIGITS).str.strip_chars()
    if len(long):
        if not long.str.contains(_NUMBER).all():
            return None
        digits = (
            long.str.replace(r"[eE].*$", "")
            .str.replace_all(r"[+\-.]", "")
            .str.strip_chars_start("0")
            .str.strip_chars_end("0")
        )
        if (digits.str.len_chars() > MAX_DIGITS).any():
            return None
    out = values.to_numpy()
    if not np.isfinite(out).all():
        return None
    # below the normal range floats keep fewer than 15 digits, and a tiny text can read as 0
    if ((out != 0) & (np.abs(out) < np.finfo(np.float64).tiny)).any():
        return None
    zeros = text.filter(values == 0)
    if len(zeros) and not zeros.str.contains(_ZERO).all():
        return None
    return out


def _candles_ok(
    stamps: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    low: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    step_ms: int,
) -> bool:
    """The row parser's checks (prices > 0, volume >= 0, high/low contain open and close, times
    increasing) and its spacing rule (the most common gap is the timeframe)."""
    if not (np.minimum(np.minimum(o, h), np.minimum(low, c)) > 0).all() or (v < 0).any():
        return False
    if (h < np.maximum(np.maximum(o, c), low)).any() or (low > np.minimum(o, c)).any():
        return False
    if len(stamps) < 2:
        return True
    gaps = np.diff(stamps)
    if (gaps <= 0).any():
        return False
    spacings, counts = np.unique(gaps, return_counts=True)
    best = counts.max()
    return bool(best == counts[spacings == step_ms].sum() and (counts == best).sum() == 1)
