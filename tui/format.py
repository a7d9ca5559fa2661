"""How figures are written on screen. Decimal in, text out: never through float.

Prices keep the significant digits a pair actually has (PEPE at 0.00001052 must not show as
0.00); amounts of quote currency show cents; every signed figure carries its sign so P&L reads
right without colour (NO_COLOR, monochrome terminals).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

DASH = "—"


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def money(value: Decimal | None, places: int = 2, *, sign: bool = False) -> str:
    """``12,345.67`` (``+12,345.67`` with ``sign``)."""
    if value is None:
        return DASH
    q = _q(value, places)
    if not q:
        return f"{abs(q):,.{places}f}"  # zero has no sign (nor a "-0.00")
    return f"{q:{'+' if sign else ''},.{places}f}"


def price(value: Decimal | None) -> str:
    """Enough decimals for the magnitude: 65,012.50 · 3.2154 · 0.00001052."""
    if value is None:
        return DASH
    magnitude = abs(value)
    if magnitude >= 1000:
        places = 2
    elif magnitude >= 1:
        places = 4
    elif magnitude == 0:
        places = 2
    else:
        # four significant digits below 1
        places = min(12, -magnitude.adjusted() + 3)
    return f"{_q(value, places):,.{places}f}"


def quantity(value: Decimal | None) -> str:
    """Exact, without trailing zeros: 0.5 · 1,250 · 0.00012."""
    if value is None:
        return DASH
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{normal.to_integral_value():,f}"
    whole, _, frac = f"{normal:f}".partition(".")
    return f"{int(whole):,}.{frac}" if whole not in ("-0", "0") else f"{whole}.{frac}"


def amount(value: Decimal | None, places: int = 6) -> str:
    """A computed quantity (a backtest's cash / price), rounded to ``places`` for reading."""
    if value is None:
        return DASH
    return quantity(_q(value, places))


def percent(value: Decimal | None, *, sign: bool = True, places: int = 2) -> str:
    if value is None:
        return DASH
    return f"{money(value, places, sign=sign)}%"


def when(value: datetime | None, now: datetime | None = None) -> str:
    """``2026-01-01 12:00`` (today: ``12:00:05``)."""
    if value is None:
        return DASH
    if now is not None and value.date() == now.date():
        return f"{value:%H:%M:%S}"
    return f"{value:%Y-%m-%d %H:%M}"


def ago(value: datetime | None, now: datetime) -> str:
    """``5s ago``, ``3m ago``, ``2h ago``, ``4d ago``."""
    if value is None:
        return "never"
    seconds = max(0, int((now - value) / timedelta(seconds=1)))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def duration(seconds: int | None) -> str:
    """``45s``, ``12m``, ``3h 20m``, ``2d 4h``: the two largest units, for reading."""
    if seconds is None:
        return DASH
    parts: list[str] = []
    rest = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
        if len(parts) == 2 or (parts and not rest):
            break
    return " ".join(parts)
