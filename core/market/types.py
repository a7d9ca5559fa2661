"""What a market feed answers: pair rules, tickers and OHLCV candles, all in Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum

from core.errors import InvalidInput


class Timeframe(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def seconds(self) -> int:
        return _SECONDS[self]

    @classmethod
    def parse(cls, value: str) -> Timeframe:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise InvalidInput(
                f"Unknown timeframe {value!r}; use one of {allowed}.", field="timeframe"
            ) from None


_SECONDS = {
    Timeframe.M1: 60,
    Timeframe.M5: 300,
    Timeframe.M15: 900,
    Timeframe.H1: 3600,
    Timeframe.H4: 14400,
    Timeframe.D1: 86400,
}


MONEY_CONTEXT = Context(
    prec=100, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
"""Arithmetic on amounts (up to 65 digits in the database) that the context never rounds."""


def quantum(places: int) -> Decimal:
    """``10**-places`` as a Decimal (``places`` may be 0 or negative for coarse steps)."""
    return Decimal(1).scaleb(-places)


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """One pair as the market lists it: the rules an order must follow."""

    symbol: str  # unified form, "BTC/USDT"
    base: str
    quote: str
    price_precision: int  # decimal places of a price
    quantity_precision: int  # decimal places of a quantity
    min_quantity: Decimal
    max_quantity: Decimal | None = None
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    active: bool = True
    min_notional: Decimal | None = None
    """The smallest order value in the quote currency (ccxt's ``limits.cost.min``)."""

    def notional_error(self, quantity: Decimal, price: Decimal) -> str | None:
        """Why ``quantity`` at ``price`` is under the minimum order value, or None when it isn't."""
        if not self.min_notional or quantity * price >= self.min_notional:
            return None
        return (
            f"The minimum order value (notional) for {self.symbol} is "
            f"{self.min_notional.normalize():f} {self.quote}; this order is worth "
            f"{(quantity * price).quantize(quantum(max(self.price_precision, 2))).normalize():f} "
            f"{self.quote}."
        )

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Quantities are cut down to the step: never trade more than was asked."""
        return quantity.quantize(quantum(self.quantity_precision), rounding=ROUND_DOWN)

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        return price.quantize(quantum(self.price_precision), rounding=rounding)


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    timestamp: datetime
    last: Decimal
    bid: Decimal
    ask: Decimal
    high_24h: Decimal
    low_24h: Decimal
    open_24h: Decimal
    volume_24h: Decimal  # base units
    quote_volume_24h: Decimal

    @property
    def change_24h_percent(self) -> Decimal:
        if not self.open_24h:
            return Decimal(0)
        return ((self.last - self.open_24h) / self.open_24h * 100).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; ``timestamp`` is the bar's open time (UTC)."""

    timestamp: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # base units
