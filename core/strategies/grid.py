"""The ``grid`` bot: a ladder of resting limit orders between a lower and an upper price.

Buys rest on the levels below the price. When the buy at level ``k`` fills, a sell rests at
level ``k + 1``; when that sell fills, the buy at level ``k`` is re-armed. Each round trip earns
one grid step.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.strategies.config import ConfigModel, QuoteAmount, Symbol, symbol_field

Price = Annotated[Decimal, Field(gt=0, max_digits=40, decimal_places=18)]


class GridBotConfig(ConfigModel):
    """Buy low and sell one step higher, over and over, inside a price range."""

    symbol: Symbol = symbol_field()
    lower_price: Price = Field(description="The lowest grid level.")
    upper_price: Price = Field(description="The highest grid level.")
    grid_count: int = Field(default=10, ge=2, le=500, description="Number of grid levels.")
    spacing: Literal["arithmetic", "geometric"] = Field(
        default="arithmetic", description="Equal price steps, or equal percentage steps."
    )
    quote_per_grid: QuoteAmount = Field(
        default=Decimal(50), description="Quote currency each buy order spends."
    )

    @model_validator(mode="after")
    def _range(self):
        if self.lower_price >= self.upper_price:
            raise ValueError(
                f"lower_price ({self.lower_price}) must be below upper_price ({self.upper_price})"
            )
        return self


@dataclass(frozen=True, slots=True)
class GridOrder:
    side: Literal["BUY", "SELL"]
    level: int
    price: Decimal
    quantity: Decimal


def grid_levels(config: GridBotConfig) -> list[Decimal]:
    low, high, steps = config.lower_price, config.upper_price, config.grid_count - 1
    if config.spacing == "arithmetic":
        step = (high - low) / steps
        return [low + step * i for i in range(steps)] + [high]
    ratio = (high / low) ** (Decimal(1) / steps)
    return [low * ratio**i for i in range(steps)] + [high]


def initial_orders(config: GridBotConfig, price: Decimal) -> list[GridOrder]:
    """Buys on every level below the current price (the bot starts holding only quote)."""
    levels = grid_levels(config)
    return [
        GridOrder("BUY", k, level, config.quote_per_grid / level)
        for k, level in enumerate(levels[:-1])
        if level < price
    ]


def rearm(config: GridBotConfig, filled: GridOrder) -> GridOrder:
    """The order that replaces a filled one: a sell a step up, or the buy a step down."""
    levels = grid_levels(config)
    if filled.side == "BUY":
        return GridOrder("SELL", filled.level + 1, levels[filled.level + 1], filled.quantity)
    below = filled.level - 1
    return GridOrder("BUY", below, levels[below], config.quote_per_grid / levels[below])
