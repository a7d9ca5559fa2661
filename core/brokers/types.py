"""What goes into a broker and what comes out: order requests, broker orders, fills."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol

from core.errors import InvalidInput
from core.ids import new_id
from core.market.errors import BelowMinimum
from core.market.types import MarketInfo


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"

    @property
    def is_trigger(self) -> bool:
        return self in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)


class OrderStatus(StrEnum):
    """``orders.status``: pending -> open -> filled / cancelled / failed."""

    PENDING = "pending"
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.FAILED)


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


CLIENT_ID_PREFIX = "bbx"


def new_client_order_id() -> str:
    """28 letters and digits: valid for Binance (<= 36) and OKX (<= 32, alphanumeric)."""
    return CLIENT_ID_PREFIX + new_id()


def _positive(value: Decimal | None, name: str) -> Decimal:
    try:
        ok = value is not None and value.is_finite() and value > 0
    except (AttributeError, InvalidOperation):
        ok = False
    if not ok:
        raise InvalidInput(f"{name.capitalize()} must be a positive number.", field=name)
    assert value is not None
    return value


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    """Limit price (limit orders only)."""
    stop_price: Decimal | None = None
    """Trigger price of stop-loss and take-profit orders (sell orders that execute at market)."""
    client_order_id: str = field(default_factory=new_client_order_id)

    def normalized(self, info: MarketInfo, reference: Decimal | None = None) -> OrderRequest:
        """This request fitted to the pair's rules, or a clear InvalidInput / BelowMinimum.

        The minimum order value is checked at the limit or stop price, else at ``reference``
        (the current quote of a market order) when given; brokers check market fills too.
        """
        if info.symbol != self.symbol:
            raise InvalidInput(f"Rules for {info.symbol} do not apply to {self.symbol}.")
        if not isinstance(self.side, Side) or not isinstance(self.type, OrderType):
            raise InvalidInput("Unknown order side or type.", field="type")
        quantity = info.round_quantity(_positive(self.quantity, "quantity"))
        unit = info.base
        if quantity < info.min_quantity or quantity <= 0:
            raise BelowMinimum(
                f"The minimum order size for {info.symbol} is {info.min_quantity.normalize():f} "
                f"{unit}; {self.quantity.normalize():f} {unit} is below it.",
                field="quantity",
            )
        if info.max_quantity is not None and quantity > info.max_quantity:
            raise BelowMinimum(
                f"The maximum order size for {info.symbol} is {info.max_quantity.normalize():f} {unit}.",
                field="quantity",
            )
        price = stop = None
        if self.type is OrderType.MARKET:
            if self.price is not None or self.stop_price is not None:
                raise InvalidInput("A market order takes no price.", field="price")
        elif self.type is OrderType.LIMIT:
            if self.stop_price is not None:
                raise InvalidInput("A limit order takes no stop price.", field="stop_price")
            # Never worse than asked: buy prices round down, sell prices round up.
            rounding = ROUND_DOWN if self.side is Side.BUY else ROUND_UP
            price = info.round_price(_positive(self.price, "price"), rounding)
            if price <= 0:
                raise InvalidInput("The limit price rounds to zero.", field="price")
        else:
            if self.side is not Side.SELL:
                raise InvalidInput(
                    "Stop-loss and take-profit orders close a holding: they must be sell orders.",
                    field="side",
                )
            if self.price is not None:
                raise InvalidInput(
                    "Stop-loss and take-profit orders execute at market; give only a stop price.",
                    field="price",
                )
            stop = info.round_price(_positive(self.stop_price, "stop_price"))
            if stop <= 0:
                raise InvalidInput("The stop price rounds to zero.", field="stop_price")
        at = price or stop or reference
        refusal = info.notional_error(quantity, at) if at is not None else None
        if refusal is not None:
            raise BelowMinimum(refusal, field="quantity")
        return replace(self, quantity=quantity, price=price, stop_price=stop)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fee`` is in ``fee_currency`` (the quote for paper; what the exchange says live)."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    executed_at: datetime
    is_paper: bool
    order_type: OrderType = OrderType.MARKET
    reference_price: Decimal | None = None
    """The intended price: the limit or stop price, or the quote when a market order was sent."""
    trade_id: str | None = None

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """A broker's answer about one order."""

    client_order_id: str
    status: OrderStatus
    filled: Decimal = Decimal(0)
    fills: tuple[Fill, ...] = ()
    exchange_order_id: str | None = None
    average_price: Decimal | None = None
    reason: str | None = None


class Broker(Protocol):
    """Places orders somewhere. Brokers never touch the database; the ledger records results."""

    is_paper: bool
    venue: str

    async def place(self, request: OrderRequest, info: MarketInfo) -> BrokerOrder:
        """Send a normalized request. Rejections raise typed errors (nothing was placed)."""
        ...

    async def cancel(
        self, request: OrderRequest, info: MarketInfo, *, exchange_order_id: str | None = None
    ) -> BrokerOrder: ...


class Funds(Protocol):
    """What a paper broker may spend: the wallet's free balance of an asset."""

    async def available(self, asset: str) -> Decimal: ...
