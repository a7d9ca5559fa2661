"""The ``arbitrage`` bot: one symbol on two markets; buy where it is cheap and sell where it is
dear when the spread beats both fees plus a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from core.strategies.config import ConfigModel, QuoteAmount, Symbol, symbol_field

HUNDRED = Decimal(100)


class ArbitrageBotConfig(ConfigModel):
    """Trade both legs when one market's bid beats the other's ask by more than the costs."""

    symbol: Symbol = symbol_field()
    market_a: str = Field(
        default="simulated", min_length=1, description="An exchange connection id, or 'simulated'."
    )
    market_b: str = Field(
        default="simulated", min_length=1, description="An exchange connection id, or 'simulated'."
    )
    simulated_offset_percent: Annotated[Decimal, Field(ge=-50, le=50)] = Field(
        default=Decimal("0.5"),
        description="Price offset of a simulated market B against market A (%).",
    )
    simulated_spread_percent: Annotated[Decimal, Field(ge=0, le=10)] = Field(
        default=Decimal(0),
        description="How far a simulated market B's price wanders around the offset: the "
        "standard deviation of a mean-reverting random spread (%). 0 keeps it fixed.",
    )
    threshold_percent: Annotated[Decimal, Field(ge=0, le=100)] = Field(
        default=Decimal("0.1"), description="Net spread (after both fees) needed to trade (%)."
    )
    trade_amount: QuoteAmount = Field(
        default=Decimal(100), description="Quote currency spent on the buy leg."
    )

    @model_validator(mode="after")
    def _two_markets(self):
        same = self.market_a == self.market_b
        moved = self.simulated_offset_percent != 0 or self.simulated_spread_percent != 0
        if same and not (self.market_a == "simulated" and moved):
            raise ValueError(
                "market_a and market_b must differ (two simulated markets need a non-zero "
                "offset or spread)"
            )
        return self


@dataclass(frozen=True, slots=True)
class Quote:
    market: str
    bid: Decimal
    ask: Decimal
    fee: Decimal  # taker fee as a fraction, 0.001 = 0.1 %


@dataclass(frozen=True, slots=True)
class Opportunity:
    buy_market: str
    sell_market: str
    buy_price: Decimal
    sell_price: Decimal
    quantity: Decimal
    net_spread_percent: Decimal
    expected_profit: Decimal


def net_spread_percent(buy: Quote, sell: Quote) -> Decimal:
    cost = buy.ask * (1 + buy.fee)
    proceeds = sell.bid * (1 - sell.fee)
    return (proceeds / cost - 1) * HUNDRED


def opportunity(config: ArbitrageBotConfig, a: Quote, b: Quote) -> Opportunity | None:
    """The better direction if its net spread exceeds the threshold, else None."""
    best = max(((a, b), (b, a)), key=lambda pair: net_spread_percent(*pair))
    buy, sell = best
    spread = net_spread_percent(buy, sell)
    if spread <= config.threshold_percent:
        return None
    quantity = config.trade_amount / (buy.ask * (1 + buy.fee))
    profit = quantity * sell.bid * (1 - sell.fee) - config.trade_amount
    return Opportunity(buy.market, sell.market, buy.ask, sell.bid, quantity, spread, profit)
