"""What every local fake exchange shares: accounts with free / locked balances, a book of orders
that fill when ``set_price`` crosses them, queued failures, candle history and the aiohttp server.

Each exchange's module (``binance``, ``okx``, ``bybit``) adds only its protocol: its routes, how
it signs requests, how it spells symbols, orders and errors. ``place`` and ``cancel`` hold the
matching rules and raise ``Refusal`` with a ``Refused`` kind that each protocol words its own way.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, Self

from aiohttp import web

FEE = Decimal("0.001")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Symbol:
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    price: Decimal
    min_notional: Decimal = Decimal("1")

    @property
    def id(self) -> str:
        """``BTCUSDT``: how Binance and Bybit spell it (OKX: ``BTC-USDT``)."""
        return self.base + self.quote

    @property
    def unified(self) -> str:
        return f"{self.base}/{self.quote}"


def default_symbols() -> dict[str, Symbol]:
    symbols = [
        Symbol(
            "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal("50000")
        ),
        Symbol(
            "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"), Decimal("3000")
        ),
        Symbol("SOL", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), Decimal("150")),
    ]
    return {s.id: s for s in symbols}


class Failure(StrEnum):
    INSUFFICIENT_BALANCE = "insufficient_balance"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"  # HTTP 503, plain text
    BAD_SIGNATURE = "bad_signature"
    TIMEOUT = "timeout"  # hang before doing anything
    TIMEOUT_AFTER = "timeout_after"  # do the work, then hang (the client never hears)


class Refused(StrEnum):
    """Why the matching engine refused a request (each protocol has its own code and words)."""

    INVALID_SYMBOL = "invalid_symbol"
    BAD_ORDER = "bad_order"
    LOT_SIZE = "lot_size"
    PRICE_FILTER = "price_filter"
    MIN_NOTIONAL = "min_notional"
    INSUFFICIENT = "insufficient"
    DUPLICATE = "duplicate"
    WOULD_TRIGGER = "would_trigger"
    NOT_FOUND = "not_found"
    NOT_OPEN = "not_open"


class Refusal(Exception):
    def __init__(self, kind: Refused, detail: str = "") -> None:
        super().__init__(detail or kind.value)
        self.kind = kind


@dataclass
class _Queued:
    kind: Failure
    times: int
    method: str | None
    path: str | None


@dataclass
class Account:
    api_key: str
    secret: str
    passphrase: str | None = None
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]

    def free(self, asset: str) -> Decimal:
        return self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0]

    def move(self, asset: str, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[0] += free
        entry[1] += locked


@dataclass
class Order:
    """One order, in the fake's own terms: sides BUY/SELL, types MARKET/LIMIT/STOP_LOSS/
    TAKE_PROFIT, status NEW/FILLED/CANCELED."""

    order_id: int
    client_order_id: str
    api_key: str
    symbol: Symbol
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    update_time: int = 0
    fills: list[dict[str, Any]] = field(default_factory=list)


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeExchange:
    """``async with Fake() as fake:`` then point ccxt at ``fake.url``."""

    def __init__(self, symbols: dict[str, Symbol] | None = None, *, hang_seconds: float = 5.0):
        self.symbols = symbols or default_symbols()
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, Order] = {}
        self.requests: list[tuple[str, str]] = []
        self.arrivals: list[tuple[str, float]] = []  # (path, time.monotonic()) per request
        self.hang_seconds = hang_seconds
        self._failures: list[_Queued] = []
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.history: dict[tuple[str, str], list[list[Any]]] = {}  # (symbol id, interval)

    # -- what a protocol provides -------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Handler]]:
        raise NotImplementedError

    # -- control ------------------------------------------------------------------------------

    def add_account(
        self,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        **balances: Decimal | str | int,
    ) -> Account:
        account = Account(api_key, secret, passphrase)
        for asset, amount in balances.items():
            account.balances[asset] = [Decimal(str(amount)), Decimal(0)]
        self.accounts[api_key] = account
        return account

    def fail(
        self,
        kind: Failure | str,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` / ``path`` with ``kind``."""
        self._failures.append(_Queued(Failure(kind), times, method, path))

    def clear_failures(self) -> None:
        self._failures.clear()

    def symbol(self, unified: str) -> Symbol:
        base, quote = unified.split("/")
        return self.symbols[base + quote]

    def set_price(self, symbol: str, price: Decimal | str) -> None:
        """Move the last price and fill every resting order it crosses."""
        sym = self.symbol(symbol) if "/" in symbol else self.symbols[symbol]
        sym.price = Decimal(str(price))
        for order in list(self.orders.values()):
            if order.symbol is sym and order.status == "NEW" and self._crossed(order):
                account = self.accounts[order.api_key]
                self._release(account, order)
                maker = order.type == "LIMIT"
                fill_price = order.price if maker and order.price is not None else sym.price
                self._fill(account, order, fill_price, maker=maker)

    def set_history(self, symbol: str, interval: str, candles: list[list[Any]]) -> None:
        """Serve these candles (``[open ms, open, high, low, close, volume]``, oldest first)
        for ``symbol`` (``BTC/USDT``) and ``interval`` (``1h``)."""
        self.history[(symbol.replace("/", ""), interval)] = [list(row) for row in candles]

    def orders_of(self, api_key: str) -> list[Order]:
        return [o for o in self.orders.values() if o.api_key == api_key]

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p == path)

    # -- server -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        for method, path, handler in self.routes():
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def arrive(self, request: web.Request) -> Failure | None:
        """Log the request and take the queued failure it meets, if any."""
        self.requests.append((request.method, request.path))
        self.arrivals.append((request.path, time.monotonic()))
        for queued in self._failures:
            if (
                (queued.method in (None, request.method))
                and (queued.path in (None, request.path))
                and queued.times > 0
            ):
                queued.times -= 1
                return queued.kind
        return None

    async def hang(self) -> None:
        await asyncio.sleep(self.hang_seconds)

    # -- candles ------------------------------------------------------------------------------

    def candles(
        self,
        sym: Symbol,
        interval: str,
        minutes: int,
        *,
        start: int | None,
        end: int | None,
        limit: int,
    ) -> list[list[Any]]:
        """``[open ms, open, high, low, close, volume]`` rows, oldest first: the stored history
        in [start, end] (the first ``limit`` after ``start``, else the last ``limit``), or
        candles made up around the last price up to the current bar."""
        width = minutes * 60_000
        stored = self.history.get((sym.id, interval))
        if stored is not None:
            rows = [r for r in stored if r[0] >= (start or 0) and (end is None or r[0] <= end)]
            return rows[:limit] if start is not None else rows[-limit:]
        last = now_ms() - now_ms() % width
        if end is not None:
            last = min(last, end - end % width)
        first = start if start is not None else last - (limit - 1) * width
        first -= first % width
        rows = []
        for i in range(limit):
            t = first + i * width
            if t > last:
                break
            wobble = sym.tick * (i % 7)
            o, c = sym.price - wobble, sym.price + wobble
            rows.append([t, o, c + sym.tick, o - sym.tick, c, Decimal(10)])
        return rows

    # -- matching -----------------------------------------------------------------------------

    def place(
        self,
        account: Account,
        sym: Symbol,
        *,
        side: str,
        kind: str,
        quantity: Decimal,
        price: Decimal | None,
        stop: Decimal | None,
        client_id: str | None,
    ) -> Order:
        """Check an order against the symbol's filters and the account, then fill or rest it."""
        if side not in ("BUY", "SELL") or kind not in (
            "MARKET",
            "LIMIT",
            "STOP_LOSS",
            "TAKE_PROFIT",
        ):
            raise Refusal(Refused.BAD_ORDER)
        client_id = client_id or f"fake{next(self._ids)}"
        if any(o.client_order_id == client_id and o.status == "NEW" for o in self.orders.values()):
            raise Refusal(Refused.DUPLICATE)
        if quantity < sym.min_qty or quantity % sym.step:
            raise Refusal(Refused.LOT_SIZE)
        if kind == "LIMIT" and (price is None or price % sym.tick):
            raise Refusal(Refused.PRICE_FILTER)
        if kind in ("STOP_LOSS", "TAKE_PROFIT") and stop is None:
            raise Refusal(Refused.BAD_ORDER, "stop price missing")
        order = Order(
            next(self._ids), client_id, account.api_key, sym, side, kind, quantity, price, stop,
            now_ms(),
        )  # fmt: skip
        marketable = kind == "MARKET" or (
            kind == "LIMIT"
            and price is not None
            and ((side == "BUY" and price >= sym.price) or (side == "SELL" and price <= sym.price))
        )
        at = sym.price if marketable or price is None else price
        if kind in ("MARKET", "LIMIT") and quantity * at < sym.min_notional:
            raise Refusal(Refused.MIN_NOTIONAL)
        if side == "BUY" and account.free(sym.quote) < quantity * at:
            raise Refusal(Refused.INSUFFICIENT)
        if side == "SELL" and account.free(sym.base) < quantity:
            raise Refusal(Refused.INSUFFICIENT)
        if kind in ("STOP_LOSS", "TAKE_PROFIT") and self._crossed(order):
            raise Refusal(Refused.WOULD_TRIGGER)
        self.orders[order.order_id] = order
        if marketable:
            self._fill(account, order, sym.price, maker=False)
        else:
            self._lock(account, order)
        return order

    def find(
        self, account: Account, sym: Symbol, order_id: str | None, client_id: str | None
    ) -> Order:
        for order in self.orders.values():
            if order.api_key != account.api_key or order.symbol is not sym:
                continue
            if (order_id and str(order.order_id) == order_id) or (
                client_id and order.client_order_id == client_id
            ):
                return order
        raise Refusal(Refused.NOT_FOUND)

    def cancel(self, order: Order) -> Order:
        if order.status != "NEW":
            raise Refusal(Refused.NOT_OPEN)
        self._release(self.accounts[order.api_key], order)
        order.status = "CANCELED"
        order.update_time = now_ms()
        return order

    @staticmethod
    def _crossed(order: Order) -> bool:
        price = order.symbol.price
        if order.type == "LIMIT":
            assert order.price is not None
            return price <= order.price if order.side == "BUY" else price >= order.price
        assert order.stop_price is not None
        if order.type == "STOP_LOSS":
            return price <= order.stop_price
        return price >= order.stop_price

    @staticmethod
    def _lock(account: Account, order: Order) -> None:
        sym = order.symbol
        if order.side == "BUY":
            amount = order.quantity * (order.price or sym.price)
            account.move(sym.quote, free=-amount, locked=amount)
        else:
            account.move(sym.base, free=-order.quantity, locked=order.quantity)

    @staticmethod
    def _release(account: Account, order: Order) -> None:
        sym = order.symbol
        if order.side == "BUY":
            amount = order.quantity * (order.price or sym.price)
            account.move(sym.quote, free=amount, locked=-amount)
        else:
            account.move(sym.base, free=order.quantity, locked=-order.quantity)

    def _fill(self, account: Account, order: Order, price: Decimal, *, maker: bool) -> None:
        """Fill the whole order; commission 0.1 % of what is received (base on a buy)."""
        sym = order.symbol
        qty = order.quantity
        notional = qty * price
        if order.side == "BUY":
            commission = (qty * FEE).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
            account.move(sym.quote, free=-notional)
            account.move(sym.base, free=qty - commission)
            asset = sym.base
        else:
            commission = (notional * FEE).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
            account.move(sym.base, free=-qty)
            account.move(sym.quote, free=notional - commission)
            asset = sym.quote
        now = now_ms()
        order.fills.append(
            {
                "price": f"{price:f}",
                "qty": f"{qty:f}",
                "commission": f"{commission:f}",
                "commissionAsset": asset,
                "tradeId": next(self._trade_ids),
                "time": now,
                "maker": maker,
            }
        )
        order.executed = qty
        order.cum_quote = notional
        order.status = "FILLED"
        order.update_time = now
