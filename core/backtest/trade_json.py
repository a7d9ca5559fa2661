"""A report's trade list as JSON: built column by column, since a million candles can make tens
of thousands of trades and a dict or a ``json.dumps`` call per trade took most of a second.

``trade_dicts`` is the list ``BacktestResult.as_json`` reports; ``trade_lines`` is the same
list as JSON text, one compact object per trade, exactly what ``json.dumps(item,
separators=(", ", ": "))`` writes for each item (``blockbotx backtest --json`` prints it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.backtest.account import Trade

FIELDS = (
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "quantity",
    "pnl",
    "pnl_pct",
    "fees",
    "exit_reason",
    "exits",
    "entries",
)
_FIRST_MS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp() * 1000)
_LAST_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds as ISO 8601 in UTC with a ``Z`` (microseconds only when not whole)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def iso_column(stamps: Sequence[int]) -> list[str]:
    """``iso`` over many times at once (numpy), the same text for each."""
    ms = np.asarray(stamps, dtype=np.int64)
    if not len(ms) or ms.min() < _FIRST_MS or ms.max() > _LAST_MS:
        return [str(iso(v)) for v in ms.tolist()]  # outside numpy's four-digit years
    moments = ms.astype("datetime64[ms]")
    text = np.datetime_as_string(moments, unit="s")
    fractional = ms % 1000 != 0
    if fractional.any():  # isoformat writes microseconds when a time has any
        text = np.where(fractional, np.datetime_as_string(moments, unit="us"), text)
    return [t + "Z" for t in text.tolist()]


def _columns(trades: Sequence[Trade]) -> list[list[Any]]:
    """The JSON values of ``FIELDS``, a list per field: times in ISO 8601, money as strings."""
    entry_ms, entry_price, quantity, exit_ms, exit_price, pnl, pnl_pct, fees, *rest = zip(
        *trades, strict=True
    )
    reason, exits, entries = rest
    decimal = [list(map(str, c)) for c in (entry_price, exit_price, quantity, pnl, pnl_pct, fees)]
    return [
        iso_column(entry_ms),
        decimal[0],
        iso_column(exit_ms),
        *decimal[1:],
        list(reason),
        list(exits),
        list(entries),
    ]


def trade_dicts(trades: Sequence[Trade]) -> list[dict[str, Any]]:
    if not trades:
        return []
    return [dict(zip(FIELDS, row, strict=True)) for row in zip(*_columns(trades), strict=True)]


def trade_lines(trades: Sequence[Trade]) -> list[str]:
    """Each trade as one line of compact JSON (``", "`` and ``": "`` between items)."""
    if not trades:
        return []
    columns = _columns(trades)
    reasons = columns[FIELDS.index("exit_reason")]
    as_json = {reason: json.dumps(reason) for reason in set(reasons)}  # a few distinct ones
    columns[FIELDS.index("exit_reason")] = [as_json[reason] for reason in reasons]
    # times and decimal strings never need escaping: the template quotes them as they are
    bare = ("exit_reason", "exits", "entries")  # JSON text already, or numbers
    template = ", ".join(f'"{f}": {{}}' if f in bare else f'"{f}": "{{}}"' for f in FIELDS)
    return list(map(("{{" + template + "}}").format, *columns))
