"""The live/testnet broker: real orders through async ccxt with the connection's own keys.

Idempotency: every order carries our client order id. When a create call fails in a way that
leaves its fate unknown (timeout, 5xx, network error) the broker first asks the exchange for
the order *by that id*; only if the exchange has never seen it is the same request sent again
(same id), and a "duplicate order" answer is resolved the same way. So a retry can never place
a second order. Rate-limit answers are retried after a back-off. Everything else is translated
into a clear typed error (``core.market.errors``) and nothing is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.brokers.types import (
    BrokerOrder,
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.market.ccxt_client import client_id_params
from core.market.ccxt_feed import to_decimal
from core.market.errors import (
    ExchangeFailure,
    ExchangeTimeout,
    ExchangeUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    translate,
)
from core.market.hub import Backoff
from core.market.lazy_ccxt import ccxt
from core.market.types import MarketInfo

log = logging.getLogger(__name__)

_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "rejected": OrderStatus.FAILED,
}


def _unknown_outcome() -> tuple[type[Exception], ...]:
    return (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError)


def _rate_limited() -> tuple[type[Exception], ...]:
    return (ccxt.RateLimitExceeded, ccxt.DDoSProtection)


@dataclass
class CcxtBroker:
    exchange: ccxt.Exchange
    venue: str
    clock: Clock = SYSTEM_CLOCK
    attempts: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=5.0))
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    is_paper: bool = False

    async def place(self, request: OrderRequest, info: MarketInfo) -> BrokerOrder:
        await self._markets()
        kind, price, params = self._ccxt_shape(request)
        params["clientOrderId"] = request.client_order_id
        amount = f"{info.round_quantity(request.quantity):f}"
        last: Exception | None = None
        must_look = False  # the last create may have reached the exchange
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                await self.sleep(
                    self.backoff.delay(attempt - 1, rate_limited=isinstance(last, _rate_limited()))
                )
            if must_look:
                try:
                    return await self.fetch(request)
                except OrderRejected:
                    must_look = False  # the exchange never saw it: safe to send again
                except ExchangeFailure as exc:
                    last = exc  # still unknown; look again next time, never resend blind
                    continue
            try:
                raw = await self.exchange.create_order(
                    request.symbol, kind, request.side.value, amount, price, dict(params)
                )
                return await self._answer(raw, request)
            except _rate_limited() as exc:
                last = exc  # refused before processing: resend after the back-off
            except _unknown_outcome() as exc:
                last, must_look = exc, True
            except ccxt.InvalidOrder as exc:
                if "Duplicate order" not in str(exc):
                    raise translate(exc, self.venue) from None
                last, must_look = exc, True
            except ccxt.BaseError as exc:
                raise translate(exc, self.venue) from None
            log.warning(
                "%s: %s placing order %s (attempt %d of %d)",
                self.venue,
                type(last).__name__,
                request.client_order_id,
                attempt,
                self.attempts,
            )
        if must_look:  # the last send's fate: one final look
            try:
                return await self.fetch(request)
            except OrderRejected:
                must_look = False
            except ExchangeFailure as exc:
                last = exc
        assert last is not None
        error = translate(last, self.venue)
        if must_look:
            raise OrderOutcomeUnknown(
                f"{error} It could not be confirmed whether order {request.client_order_id} "
                "was placed; it stays pending and is checked again by its client id."
            )
        if isinstance(error, ExchangeTimeout | ExchangeUnavailable):
            raise type(error)(
                f"{error} The order was not placed (the exchange has no order with its client id)."
            )
        raise error

    async def fetch(
        self, request: OrderRequest, *, exchange_order_id: str | None = None
    ) -> BrokerOrder:
        """The order as the exchange sees it now, with every fill so far."""
        await self._markets()
        try:
            raw = await self.exchange.fetch_order(
                exchange_order_id,
                request.symbol,
                client_id_params(self.exchange.id, request.client_order_id),
            )
        except ccxt.BaseError as exc:
            raise translate(exc, self.venue) from None
        return await self._order(raw, request)

    async def cancel(
        self, request: OrderRequest, info: MarketInfo, *, exchange_order_id: str | None = None
    ) -> BrokerOrder:
        await self._markets()
        try:
            raw = await self.exchange.cancel_order(
                exchange_order_id,
                request.symbol,
                client_id_params(self.exchange.id, request.client_order_id),
            )
        except ccxt.OrderNotFound:
            # Already filled or cancelled on the exchange: report what it is now.
            return await self.fetch(request, exchange_order_id=exchange_order_id)
        except ccxt.BaseError as exc:
            raise translate(exc, self.venue) from None
        return await self._answer(raw, request)

    async def balances(self) -> dict[str, Decimal]:
        """Total balance of every asset the account holds (free + locked)."""
        try:
            raw = await self.exchange.fetch_balance()
        except ccxt.BaseError as exc:
            raise translate(exc, self.venue) from None
        totals = raw.get("total") or {}
        return {
            asset: amount
            for asset, value in totals.items()
            if (amount := to_decimal(value)) is not None and amount > 0
        }

    # -- helpers ------------------------------------------------------------------------------

    async def _answer(self, raw: dict[str, Any], request: OrderRequest) -> BrokerOrder:
        """The order after a create or cancel. Exchanges like OKX answer with its ids only: then
        ask for its state at once; if that look fails the order is known to be open, and the
        reconcile sweep books what became of it."""
        if raw.get("status") is not None or raw.get("id") is None:
            return await self._order(raw, request)
        exchange_order_id = str(raw["id"])
        try:
            return await self.fetch(request, exchange_order_id=exchange_order_id)
        except ExchangeFailure as exc:
            log.warning("%s: order %s placed, its state unknown yet: %s", self.venue,
                        request.client_order_id, exc)  # fmt: skip
            return BrokerOrder(
                request.client_order_id, OrderStatus.OPEN, exchange_order_id=exchange_order_id
            )

    async def _markets(self) -> None:
        try:
            await self.exchange.load_markets()
        except ccxt.BaseError as exc:
            raise translate(exc, self.venue) from None

    @staticmethod
    def _ccxt_shape(request: OrderRequest) -> tuple[str, str | None, dict[str, Any]]:
        if request.type is OrderType.MARKET:
            return "market", None, {}
        if request.type is OrderType.LIMIT:
            assert request.price is not None
            return "limit", f"{request.price:f}", {}
        assert request.stop_price is not None
        key = "stopLossPrice" if request.type is OrderType.STOP_LOSS else "takeProfitPrice"
        return "market", None, {key: f"{request.stop_price:f}"}

    async def _order(self, raw: dict[str, Any], request: OrderRequest) -> BrokerOrder:
        status = _STATUS.get(str(raw.get("status")), OrderStatus.OPEN)
        filled = to_decimal(raw.get("filled")) or Decimal(0)
        trades = raw.get("trades") or []
        if filled > 0 and not trades and raw.get("id"):
            try:
                trades = await self.exchange.fetch_order_trades(raw["id"], request.symbol)
            except ccxt.BaseError as exc:
                raise translate(exc, self.venue) from None
        fills = tuple(self._fill(trade, request) for trade in trades)
        return BrokerOrder(
            client_order_id=request.client_order_id,
            status=status,
            filled=filled,
            fills=fills,
            exchange_order_id=str(raw["id"]) if raw.get("id") is not None else None,
            average_price=to_decimal(raw.get("average")),
        )

    def _fill(self, trade: dict[str, Any], request: OrderRequest) -> Fill:
        fee = trade.get("fee") or {}
        stamp = trade.get("timestamp")
        quote = request.symbol.split("/")[1]
        return Fill(
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=Side(trade.get("side") or request.side.value),
            quantity=to_decimal(trade["amount"]) or Decimal(0),
            price=to_decimal(trade["price"]) or Decimal(0),
            fee=to_decimal(fee.get("cost")) or Decimal(0),
            fee_currency=fee.get("currency") or quote,
            liquidity=Liquidity.MAKER if trade.get("takerOrMaker") == "maker" else Liquidity.TAKER,
            executed_at=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else self.clock.now(),
            is_paper=False,
            order_type=OrderType.LIMIT if request.type is OrderType.LIMIT else OrderType.MARKET,
            reference_price=request.price or request.stop_price,
            trade_id=str(trade["id"]) if trade.get("id") is not None else None,
        )
