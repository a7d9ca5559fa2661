"""The ``dca`` bot: buys a fixed quote amount on a schedule and/or down a ladder of price drops
(Nexgent's DCA levels: drop %, buy %), at most ``max_buys`` times with a cooldown, and sells
everything at a take-profit over the average entry."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from core import figures
from core.strategies.config import (
    ConfigModel,
    Percent,
    QuoteAmount,
    Symbol,
    Timeframe,
    symbol_field,
    timeframe_field,
)

HUNDRED = Decimal(100)


class DcaLevel(ConfigModel):
    drop_percent: Annotated[Decimal, Field(gt=0, lt=100)] = Field(
        description="Buy more when the price is this far below the average entry (%)…"
    )
    buy_percent: Annotated[Decimal, Field(gt=0, le=1000)] = Field(
        description="…buying this share of the quantity already held (%)."
    )


class DcaBotConfig(ConfigModel):
    """Dollar-cost averaging into one pair, out at a take-profit over the average entry."""

    symbol: Symbol = symbol_field()
    timeframe: Timeframe = timeframe_field()
    quote_amount: QuoteAmount = Field(
        default=Decimal(100), description="Quote currency spent on the first and scheduled buys."
    )
    interval_minutes: int | None = Field(
        default=None,
        ge=1,
        le=525600,
        description="Buy every this many minutes (empty: no schedule).",
    )
    levels: list[DcaLevel] = Field(
        default_factory=lambda: [
            DcaLevel(drop_percent=Decimal(5), buy_percent=Decimal(50)),
            DcaLevel(drop_percent=Decimal(10), buy_percent=Decimal(100)),
        ],
        description="Safety buys down a ladder of price drops.",
    )
    max_buys: int = Field(default=5, ge=1, le=1000, description="Most buys after the first.")
    cooldown_minutes: int = Field(
        default=60, ge=0, le=525600, description="Least time between buys."
    )
    take_profit_percent: Percent = Field(
        default=Decimal(3), description="Sell everything this far over the average entry (%)."
    )

    @field_validator("levels")
    @classmethod
    def _ladder(cls, levels: list[DcaLevel]) -> list[DcaLevel]:
        for n, (a, b) in enumerate(itertools.pairwise(levels), 2):
            if a.drop_percent >= b.drop_percent:
                raise ValueError(
                    f"each level must drop further than the one before (row {n}: "
                    f"{_pc(b.drop_percent)} after {_pc(a.drop_percent)})"
                )
        return levels

    @model_validator(mode="after")
    def _consistent(self):
        if self.interval_minutes is None and not self.levels:
            raise ValueError("set interval_minutes, levels, or both: otherwise it never buys more")
        return self


@dataclass(frozen=True, slots=True)
class DcaPosition:
    average_entry: Decimal
    quantity: Decimal
    buys: int  # positions.dca_count: buys after the first
    last_buy_at: datetime  # positions.last_dca_time (or the opening time)
    levels_done: int = 0  # ladder levels already bought


@dataclass(frozen=True, slots=True)
class DcaOrder:
    side: Literal["BUY", "SELL"]
    quote_amount: Decimal | None  # BUY: quote to spend
    quantity: Decimal | None  # SELL: quantity to sell
    reason: str
    level: int | None = None  # the ladder level bought, if any


def _p(value: Decimal, config: DcaBotConfig) -> str:
    """A price in a reason: rounded for reading, with its currency (the exact one is stored
    with the order)."""
    return figures.price(value, figures.quote_of(config.symbol))


def _pc(value: Decimal) -> str:
    return f"{figures.quantity(value)}%"


def dca_order(
    config: DcaBotConfig, position: DcaPosition | None, price: Decimal, now: datetime
) -> DcaOrder | None:
    """What the DCA bot does at this price and time (None: nothing)."""
    if position is None or position.quantity == 0:
        return DcaOrder("BUY", config.quote_amount, None, "first buy of a new DCA cycle")
    target = position.average_entry * (1 + config.take_profit_percent / HUNDRED)
    if price >= target:
        return DcaOrder(
            "SELL",
            None,
            position.quantity,
            f"price {_p(price, config)} reached the take-profit {_p(target, config)} "
            f"({_pc(config.take_profit_percent)} over the average entry "
            f"{_p(position.average_entry, config)})",
        )
    if position.buys >= config.max_buys:
        return None
    if now - position.last_buy_at < timedelta(minutes=config.cooldown_minutes):
        return None
    if position.levels_done < len(config.levels):
        level = config.levels[position.levels_done]
        trigger = position.average_entry * (1 - level.drop_percent / HUNDRED)
        if price <= trigger:
            amount = position.quantity * level.buy_percent / HUNDRED * price
            return DcaOrder(
                "BUY",
                amount,
                None,
                f"price {_p(price, config)} is {_pc(level.drop_percent)} below the average "
                f"entry {_p(position.average_entry, config)}: level {position.levels_done + 1} "
                f"buys {_pc(level.buy_percent)} more",
                level=position.levels_done,
            )
    if config.interval_minutes is not None and now - position.last_buy_at >= timedelta(
        minutes=config.interval_minutes
    ):
        return DcaOrder(
            "BUY", config.quote_amount, None, f"scheduled buy every {config.interval_minutes} min"
        )
    return None
