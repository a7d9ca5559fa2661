"""The ``pump_screener`` bot: scans many symbols for a price and volume surge over a window."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.strategies.candles import Candles, to_decimal
from core.strategies.config import ConfigModel, QuoteAmount, Symbol, Timeframe, timeframe_field

HUNDRED = Decimal(100)


class PumpScreenerConfig(ConfigModel):
    """Alert (and optionally buy with a tight stop) when price and volume jump together."""

    symbols: list[Symbol] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT"], min_length=1, description="Pairs to scan."
    )
    timeframe: Timeframe = timeframe_field()
    window: int = Field(default=12, ge=1, le=1000, description="Compare over this many candles.")
    price_change_percent: Annotated[Decimal, Field(gt=0, le=10000)] = Field(
        default=Decimal(5), description="Price rise over the window that counts (%)."
    )
    volume_change_percent: Annotated[Decimal, Field(gt=0, le=100000)] = Field(
        default=Decimal(200),
        description="Volume rise over the window against the window before it (%).",
    )
    enter: bool = Field(default=False, description="Also buy on a detection.")
    entry_amount: QuoteAmount | None = Field(default=None, description="Quote spent per entry.")
    stop_loss_percent: Annotated[Decimal, Field(gt=0, lt=100)] = Field(
        default=Decimal(2), description="The tight stop for entries (%)."
    )

    @model_validator(mode="after")
    def _entry(self):
        if self.enter and self.entry_amount is None:
            raise ValueError("enter needs an entry_amount")
        return self


@dataclass(frozen=True, slots=True)
class Detection:
    symbol: str
    price_change: Decimal  # %
    volume_change: Decimal  # %
    current_price: Decimal
    confidence: Literal["high", "medium", "low"]


def detect(config: PumpScreenerConfig, symbol: str, candles: Candles) -> Detection | None:
    """A detection when both changes reach their thresholds on the latest candle."""
    w = config.window
    if len(candles) < 2 * w + 1:
        return None
    now, before = to_decimal(candles.close[-1]), to_decimal(candles.close[-1 - w])
    recent = sum((to_decimal(v) for v in candles.volume[-w:]), Decimal(0))
    earlier = sum((to_decimal(v) for v in candles.volume[-2 * w : -w]), Decimal(0))
    if before <= 0 or earlier <= 0:
        return None
    price_change = (now / before - 1) * HUNDRED
    volume_change = (recent / earlier - 1) * HUNDRED
    if price_change < config.price_change_percent or volume_change < config.volume_change_percent:
        return None
    strong = (price_change >= 2 * config.price_change_percent) + (
        volume_change >= 2 * config.volume_change_percent
    )
    confidence: Literal["high", "medium", "low"] = ("low", "medium", "high")[strong]
    return Detection(
        symbol,
        price_change.quantize(Decimal("0.0001")),
        volume_change.quantize(Decimal("0.0001")),
        now,
        confidence,
    )
