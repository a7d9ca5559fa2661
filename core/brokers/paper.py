"""The paper broker: realistic simulated fills against live or simulated prices.

- market orders fill at once at the ask (buy) / bid (sell), moved by slippage that grows with
  the order's size relative to the market's volume, and pay the taker fee;
- limit orders that are not marketable rest until the price crosses them (ask <= limit for a
  buy, bid >= limit for a sell), then fill at the limit price and pay the maker fee; a limit
  that is already marketable fills at once like a market order, never worse than its limit;
- stop-loss / take-profit sell orders rest until the bid falls to / rises to the stop price,
  then fill as market orders;
- an order the wallet can't pay for, or below the pair's minimum size or value (notional), is
  rejected with a clear reason. Nothing is ever partially faked: a paper order fills completely or not at all.

Fees are ``quantity x price x rate`` exactly, in the quote currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_UP, Decimal, localcontext
from typing import Protocol

from core.brokers.types import (
    BrokerOrder,
    Fill,
    Funds,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.market.errors import BelowMinimum, InsufficientFunds, OrderRejected
from core.market.types import MONEY_CONTEXT, MarketInfo, Ticker, quantum


class TickerSource(Protocol):
    async def ticker(self, symbol: str) -> Ticker: ...


@dataclass(frozen=True, slots=True)
class SlippageModel:
    """Slippage = impact x notional / (one minute of the market's quote volume), capped.

    With the defaults a market order worth a full minute of volume moves its price 1 %.
    """

    impact: Decimal = Decimal("0.01")
    cap: Decimal = Decimal("0.05")

    def fraction(self, notional: Decimal, ticker: Ticker) -> Decimal:
        minute_volume = ticker.quote_volume_24h / 1440
        if minute_volume <= 0:
            return self.cap
        return min(self.cap, self.impact * notional / minute_volume)


def money(value: Decimal) -> str:
    return f"{value.normalize():,f}"


@dataclass
class PaperBroker:
    prices: TickerSource
    funds: Funds | None = None
    clock: Clock = SYSTEM_CLOCK
    slippage: SlippageModel = field(default_factory=SlippageModel)
    venue: str = "paper"
    is_paper: bool = True

    async def place(self, request: OrderRequest, info: MarketInfo) -> BrokerOrder:
        with localcontext(MONEY_CONTEXT):
            return await self._place(request, info)

    async def _place(self, request: OrderRequest, info: MarketInfo) -> BrokerOrder:
        ticker = await self.prices.ticker(request.symbol)
        if request.type is OrderType.MARKET:
            fill = self._market_fill(request, info, ticker, reference=self._quote(request, ticker))
            refusal = info.notional_error(fill.quantity, fill.price)
            if refusal is not None:
                raise BelowMinimum(refusal, field="quantity")
            await self._ensure_funds(request, info, fill.quantity * fill.price + fill.fee)
            return self._filled(request, fill)
        if request.type is OrderType.LIMIT:
            assert request.price is not None
            marketable = (
                ticker.ask <= request.price
                if request.side is Side.BUY
                else ticker.bid >= request.price
            )
            if marketable:
                fill = self._market_fill(request, info, ticker, reference=request.price)
                limited = (
                    min(fill.price, request.price)
                    if request.side is Side.BUY
                    else max(fill.price, request.price)
                )
                fill = self._with_price(fill, limited, info.taker_fee)
                await self._ensure_funds(request, info, fill.quantity * fill.price + fill.fee)
                return self._filled(request, fill)
            await self._ensure_funds(request, info, reservation(request, info))
            return BrokerOrder(request.client_order_id, OrderStatus.OPEN)
        # Stop-loss / take-profit: refuse one that would trigger at once, like exchanges do.
        assert request.stop_price is not None
        if self.triggered(request, ticker):
            raise OrderRejected(
                f"The stop price {money(request.stop_price)} would trigger immediately "
                f"(bid {money(ticker.bid)}); place a market order instead.",
                field="stop_price",
            )
        await self._ensure_funds(request, info, request.quantity)
        return BrokerOrder(request.client_order_id, OrderStatus.OPEN)

    async def cancel(
        self, request: OrderRequest, info: MarketInfo, *, exchange_order_id: str | None = None
    ) -> BrokerOrder:
        return BrokerOrder(request.client_order_id, OrderStatus.CANCELLED)

    def match(self, request: OrderRequest, info: MarketInfo, ticker: Ticker) -> Fill | None:
        """The fill of a resting order at this price, or None while it keeps resting."""
        with localcontext(MONEY_CONTEXT):
            return self._match(request, info, ticker)

    def _match(self, request: OrderRequest, info: MarketInfo, ticker: Ticker) -> Fill | None:
        if request.type is OrderType.LIMIT:
            assert request.price is not None
            crossed = (
                ticker.ask <= request.price
                if request.side is Side.BUY
                else ticker.bid >= request.price
            )
            if not crossed:
                return None
            return Fill(
                client_order_id=request.client_order_id,
                symbol=request.symbol,
                side=request.side,
                quantity=request.quantity,
                price=request.price,
                fee=request.quantity * request.price * info.maker_fee,
                fee_currency=info.quote,
                liquidity=Liquidity.MAKER,
                executed_at=self.clock.now(),
                is_paper=True,
                order_type=OrderType.LIMIT,
                reference_price=request.price,
            )
        if request.type.is_trigger and self.triggered(request, ticker):
            return self._market_fill(request, info, ticker, reference=request.stop_price)
        return None

    @staticmethod
    def triggered(request: OrderRequest, ticker: Ticker) -> bool:
        assert request.stop_price is not None
        if request.type is OrderType.STOP_LOSS:
            return ticker.bid <= request.stop_price
        return ticker.bid >= request.stop_price

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _quote(request: OrderRequest, ticker: Ticker) -> Decimal:
        return ticker.ask if request.side is Side.BUY else ticker.bid

    def _market_fill(
        self, request: OrderRequest, info: MarketInfo, ticker: Ticker, *, reference: Decimal | None
    ) -> Fill:
        quote = self._quote(request, ticker)
        slip = self.slippage.fraction(request.quantity * quote, ticker)
        if request.side is Side.BUY:
            price = info.round_price(quote * (1 + slip), ROUND_UP)
        else:
            price = max(
                info.round_price(quote * (1 - slip), ROUND_DOWN), quantum(info.price_precision)
            )
        fill = Fill(
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            quantity=request.quantity,
            price=price,
            fee=Decimal(0),
            fee_currency=info.quote,
            liquidity=Liquidity.TAKER,
            executed_at=self.clock.now(),
            is_paper=True,
            order_type=OrderType.MARKET,
            reference_price=reference,
        )
        return self._with_price(fill, price, info.taker_fee)

    @staticmethod
    def _with_price(fill: Fill, price: Decimal, rate: Decimal) -> Fill:
        return replace(fill, price=price, fee=fill.quantity * price * rate)

    @staticmethod
    def _filled(request: OrderRequest, fill: Fill) -> BrokerOrder:
        return BrokerOrder(
            request.client_order_id,
            OrderStatus.FILLED,
            filled=fill.quantity,
            fills=(fill,),
            average_price=fill.price,
        )

    async def _ensure_funds(
        self, request: OrderRequest, info: MarketInfo, buy_cost: Decimal
    ) -> None:
        """Buys need ``buy_cost`` of the quote; sells need the quantity of the base."""
        if self.funds is None:
            return
        if request.side is Side.BUY:
            asset, needed = info.quote, buy_cost
        else:
            asset, needed = info.base, request.quantity
        available = await self.funds.available(asset)
        if available < needed:
            raise InsufficientFunds(
                f"Insufficient {asset} in the paper wallet: the order needs {money(needed)} "
                f"{asset}{' with fees' if request.side is Side.BUY else ''} and "
                f"{money(available)} is available.",
                field="quantity",
            )


def reservation(request: OrderRequest, info: MarketInfo) -> Decimal:
    """What a resting order locks: a buy limit its cost with the maker fee, a sell its quantity."""
    if request.side is Side.SELL:
        return request.quantity
    assert request.price is not None
    with localcontext(MONEY_CONTEXT):
        return request.quantity * request.price * (1 + info.maker_fee)
