"""Figures in words a person reads outside the dashboard (notifications, e-mails, Telegram,
reports, the reasons stored with orders): rounded for reading, with their currency; never
through float. The one formatter of ``core``; the dashboard's is ``tui/format.py``. The exact
Decimal stays in the database and in metadata."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def _places(value: Decimal) -> int:
    """Enough decimals for the magnitude: 65,012.50 · 3.2154 · 0.00001052."""
    magnitude = abs(value)
    if magnitude >= 1000 or magnitude == 0:
        return 2
    if magnitude >= 1:
        return 4
    return max(2, -magnitude.adjusted() + 3)


def amount(value: Decimal, currency: str, *, sign: bool = False, places: int = 2) -> str:
    """``1,234.57 USDT`` (``+1,234.57 USDT`` with ``sign``); zero carries no sign."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if not q:
        return f"{abs(q):,.{places}f} {currency}"
    return f"{q:{'+' if sign else ''},.{places}f} {currency}"


def price(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return amount(value, currency, places=_places(value))


def quantity(value: Decimal) -> str:
    """A quantity without trailing zeros: ``0.015``, ``1,200``."""
    return f"{value.normalize():,f}"


def exact(value: Decimal) -> str:
    """The exact value for a file a program reads (CSV exports): every digit that counts, none
    of the column's 30-decimal trailing zeros, never an exponent (``0.01``, ``100``)."""
    text = f"{value:f}"  # not normalize(): it rounds to the context's 28 digits
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{q:+.2f}%" if q else "0.00%"


def quote_of(symbol: str) -> str:
    """The currency a pair's prices and P&L are in (``BTC/USDT`` → ``USDT``)."""
    return symbol.partition("/")[2] or symbol
