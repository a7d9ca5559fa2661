"""A local stand-in for Binance's spot REST API: the subset ccxt uses, with real signatures.

Endpoints (all under ``/api/v3``): ``exchangeInfo`` (load_markets), ``ticker/24hr``
(fetch_ticker / fetch_tickers), ``klines`` (fetch_ohlcv), ``account`` (fetch_balance),
``order`` POST / GET / DELETE (create_order / fetch_order / cancel_order), ``myTrades``
(fetch_order_trades), ``openOrders``, ``ping`` and ``time``.

Signed endpoints check the ``X-MBX-APIKEY`` header and the HMAC-SHA256 ``signature`` of the
query string (GET, DELETE) or the form body (POST), and the timestamp's receive window, as
Binance does. Accounts hold balances (free / locked); orders rest in a book until
``set_price`` crosses them; market orders fill at the last price. Commission is 0.1 %, taken
from what is received (the base asset on a buy, the quote on a sell), like Binance without BNB.

``set_history`` gives ``klines`` a stored candle history to page through (otherwise it makes
candles up around the last price).

Failures can be queued: the next matching request(s) answer HTTP 400 insufficient balance,
429, 503, a bad-signature error, or hang (before or after processing the order) so the
client times out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

FEE = Decimal("0.001")
RECV_WINDOW_MS = 60_000


@dataclass
class Symbol:
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    price: Decimal

    @property
    def id(self) -> str:
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
    INSUFFICIENT_BALANCE = "insufficient_balance"  # HTTP 400, code -2010
    RATE_LIMIT = "rate_limit"  # HTTP 429, code -1003
    SERVER_ERROR = "server_error"  # HTTP 503, plain text
    BAD_SIGNATURE = "bad_signature"  # HTTP 400, code -1022
    TIMEOUT = "timeout"  # hang before doing anything
    TIMEOUT_AFTER = "timeout_after"  # do the work, then hang (the client never hears)


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
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]

    def free(self, asset: str) -> Decimal:
        return self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0]

    def move(self, asset: str, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[0] += free
        entry[1] += locked


@dataclass
class Order:
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

    def as_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol.id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": f"{self.price or 0:f}",
            "origQty": f"{self.quantity:f}",
            "executedQty": f"{self.executed:f}",
            "cummulativeQuoteQty": f"{self.cum_quote:f}",
            "status": self.status,
            "timeInForce": "GTC",
            "type": self.type,
            "side": self.side,
            "stopPrice": f"{self.stop_price or 0:f}",
            "icebergQty": "0",
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": self.status in ("NEW", "PARTIALLY_FILLED"),
            "workingTime": self.time,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _now_ms() -> int:
    return int(time.time() * 1000)


class FakeBinance:
    """``async with FakeBinance() as fake:`` then point ccxt at ``fake.url``."""

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

    # -- control ------------------------------------------------------------------------------

    def add_account(self, api_key: str, secret: str, **balances: Decimal | str | int) -> Account:
        account = Account(api_key, secret)
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

    def set_price(self, symbol: str, price: Decimal | str) -> None:
        """Move the last price and fill every resting order it crosses."""
        sym = self.symbols[symbol.replace("/", "")]
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
        from ``klines`` for ``symbol`` (``BTC/USDT``) and ``interval`` (``1h``), paged by
        ``startTime`` / ``endTime`` / ``limit`` as Binance pages its history."""
        self.history[(symbol.replace("/", ""), interval)] = [list(row) for row in candles]

    def orders_of(self, api_key: str) -> list[Order]:
        return [o for o in self.orders.values() if o.api_key == api_key]

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p == path)

    # -- server -------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBinance:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        routes: list[tuple[str, str, Callable[..., Any], bool]] = [
            ("GET", "/api/v3/ping", self._ping, False),
            ("GET", "/api/v3/time", self._time, False),
            ("GET", "/api/v3/exchangeInfo", self._exchange_info, False),
            ("GET", "/api/v3/ticker/24hr", self._ticker, False),
            ("GET", "/api/v3/klines", self._klines, False),
            ("GET", "/api/v3/account", self._account, True),
            ("POST", "/api/v3/order", self._create_order, True),
            ("GET", "/api/v3/order", self._get_order, True),
            ("DELETE", "/api/v3/order", self._cancel_order, True),
            ("GET", "/api/v3/openOrders", self._open_orders, True),
            ("GET", "/api/v3/myTrades", self._my_trades, True),
        ]
        for method, path, handler, signed in routes:
            app.router.add_route(method, path, self._wrap(handler, signed))
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

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for queued in self._failures:
            if (
                (queued.method in (None, method))
                and (queued.path in (None, path))
                and queued.times > 0
            ):
                queued.times -= 1
                return queued.kind
        return None

    def _wrap(self, handler: Callable[..., Any], signed: bool) -> Callable[[web.Request], Any]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.method, request.path))
            self.arrivals.append((request.path, time.monotonic()))
            failure = self._take_failure(request.method, request.path)
            try:
                if failure is Failure.TIMEOUT:
                    await asyncio.sleep(self.hang_seconds)
                    raise BinanceError(
                        504, -1007, "Timeout waiting for response from backend server."
                    )
                if failure is Failure.RATE_LIMIT:
                    return web.json_response(
                        {
                            "code": -1003,
                            "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE.",
                        },
                        status=429,
                        headers={"Retry-After": "1"},
                    )
                if failure is Failure.SERVER_ERROR:
                    return web.Response(status=503, text="Service Unavailable")
                if failure is Failure.BAD_SIGNATURE:
                    raise BinanceError(400, -1022, "Signature for this request is not valid.")
                if failure is Failure.INSUFFICIENT_BALANCE:
                    raise BinanceError(
                        400, -2010, "Account has insufficient balance for requested action."
                    )
                params = await self._params(request, signed)
                body = handler(params)
                if failure is Failure.TIMEOUT_AFTER:
                    await asyncio.sleep(self.hang_seconds)
                return web.json_response(body)
            except BinanceError as exc:
                return web.json_response({"code": exc.code, "msg": exc.msg}, status=exc.status)

        return endpoint

    async def _params(self, request: web.Request, signed: bool) -> dict[str, Any]:
        raw = await request.text() if request.method == "POST" else request.query_string
        params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
        if not signed:
            return params
        account = self.accounts.get(request.headers.get("X-MBX-APIKEY", ""))
        if account is None:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        stamp = int(params.get("timestamp", 0))
        window = int(params.get("recvWindow", RECV_WINDOW_MS))
        if abs(_now_ms() - stamp) > window:
            raise BinanceError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )
        params["_account"] = account
        return params

    def _symbol(self, params: dict[str, Any]) -> Symbol:
        sym = self.symbols.get(params.get("symbol", ""))
        if sym is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return sym

    # -- public -------------------------------------------------------------------------------

    def _ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _time(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"serverTime": _now_ms()}

    def _exchange_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": _now_ms(),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [self._symbol_info(s) for s in self.symbols.values()],
        }

    @staticmethod
    def _symbol_info(s: Symbol) -> dict[str, Any]:
        return {
            "symbol": s.id,
            "status": "TRADING",
            "baseAsset": s.base,
            "baseAssetPrecision": 8,
            "quoteAsset": s.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": f"{s.tick:f}",
                    "maxPrice": "1000000.00000000",
                    "tickSize": f"{s.tick:f}",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": f"{s.min_qty:f}",
                    "maxQty": "9000.00000000",
                    "stepSize": f"{s.step:f}",
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "1.00000000",
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _ticker_of(self, s: Symbol) -> dict[str, Any]:
        now = _now_ms()
        price = f"{s.price:f}"
        return {
            "symbol": s.id,
            "priceChange": "0",
            "priceChangePercent": "0",
            "weightedAvgPrice": price,
            "prevClosePrice": price,
            "lastPrice": price,
            "lastQty": "1",
            "bidPrice": price,
            "bidQty": "1",
            "askPrice": price,
            "askQty": "1",
            "openPrice": price,
            "highPrice": price,
            "lowPrice": price,
            "volume": "1000",
            "quoteVolume": f"{s.price * 1000:f}",
            "openTime": now - 86_400_000,
            "closeTime": now,
            "firstId": 1,
            "lastId": 2,
            "count": 2,
        }

    def _ticker(self, params: dict[str, Any]) -> Any:
        if "symbol" in params:
            return self._ticker_of(self._symbol(params))
        if "symbols" in params:
            wanted = json.loads(params["symbols"])
            return [self._ticker_of(self._symbol({"symbol": w})) for w in wanted]
        return [self._ticker_of(s) for s in self.symbols.values()]

    def _klines(self, params: dict[str, Any]) -> list[list[Any]]:
        s = self._symbol(params)
        minutes = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "4h": 240, "1d": 1440}.get(
            params.get("interval", "")
        )
        if minutes is None:
            raise BinanceError(400, -1120, "Invalid interval.")
        width = minutes * 60_000
        limit = min(int(params.get("limit", 500)), 1000)
        stored = self.history.get((s.id, params["interval"]))
        if stored is not None:
            return self._stored_klines(stored, params, width, limit)
        end = _now_ms() - _now_ms() % width
        start = int(params["startTime"]) if "startTime" in params else end - (limit - 1) * width
        start -= start % width
        rows = []
        for i in range(limit):
            t = start + i * width
            if t > end:
                break
            wobble = s.tick * (i % 7)
            o, c = s.price - wobble, s.price + wobble
            rows.append(
                [
                    t,
                    f"{o:f}",
                    f"{c + s.tick:f}",
                    f"{o - s.tick:f}",
                    f"{c:f}",
                    "10.0",
                    t + width - 1,
                    f"{s.price * 10:f}",
                    5,
                    "5.0",
                    f"{s.price * 5:f}",
                    "0",
                ]
            )
        return rows

    @staticmethod
    def _stored_klines(
        stored: list[list[Any]], params: dict[str, Any], width: int, limit: int
    ) -> list[list[Any]]:
        start = int(params.get("startTime", 0))
        end = int(params["endTime"]) if "endTime" in params else None
        rows = [r for r in stored if r[0] >= start and (end is None or r[0] <= end)]
        rows = rows[:limit] if "startTime" in params else rows[-limit:]
        return [
            [t, str(o), str(h), str(low), str(c), str(v), t + width - 1, "0", 1, "0", "0", "0"]
            for t, o, h, low, c, v in rows
        ]

    # -- signed -------------------------------------------------------------------------------

    def _account(self, params: dict[str, Any]) -> dict[str, Any]:
        account: Account = params["_account"]
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0",
                "seller": "0",
            },
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": _now_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": f"{free:f}", "locked": f"{locked:f}"}
                for asset, (free, locked) in sorted(account.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 1,
        }

    def _find(self, params: dict[str, Any]) -> Order:
        account: Account = params["_account"]
        order_id = params.get("orderId")
        client_id = params.get("origClientOrderId")
        for order in self.orders.values():
            if order.api_key != account.api_key or order.symbol.id != params.get("symbol"):
                continue
            if (order_id and str(order.order_id) == order_id) or (
                client_id and order.client_order_id == client_id
            ):
                return order
        raise BinanceError(400, -2013, "Order does not exist.")

    def _create_order(self, params: dict[str, Any]) -> dict[str, Any]:
        account: Account = params["_account"]
        sym = self._symbol(params)
        side, kind = params.get("side"), params.get("type")
        if side not in ("BUY", "SELL") or kind not in (
            "MARKET",
            "LIMIT",
            "STOP_LOSS",
            "TAKE_PROFIT",
        ):
            raise BinanceError(400, -1116, "Invalid orderType.")
        client_id = params.get("newClientOrderId") or f"fake{next(self._ids)}"
        if any(o.client_order_id == client_id and o.status == "NEW" for o in self.orders.values()):
            raise BinanceError(400, -2010, "Duplicate order sent.")
        try:
            quantity = Decimal(params["quantity"])
        except (KeyError, ArithmeticError):
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
            ) from None
        if quantity < sym.min_qty or quantity % sym.step:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
        price = Decimal(params["price"]) if "price" in params else None
        stop = Decimal(params["stopPrice"]) if "stopPrice" in params else None
        if kind == "LIMIT" and (price is None or price % sym.tick):
            raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
        if kind in ("STOP_LOSS", "TAKE_PROFIT") and stop is None:
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
            )
        now = _now_ms()
        order = Order(
            next(self._ids), client_id, account.api_key, sym, side, kind, quantity, price, stop, now
        )
        marketable = kind == "MARKET" or (
            kind == "LIMIT"
            and price is not None
            and ((side == "BUY" and price >= sym.price) or (side == "SELL" and price <= sym.price))
        )
        cost = quantity * (sym.price if marketable or price is None else price)
        if side == "BUY" and account.free(sym.quote) < cost:
            raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")
        if side == "SELL" and account.free(sym.base) < quantity:
            raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")
        if kind in ("STOP_LOSS", "TAKE_PROFIT") and self._crossed(order):
            raise BinanceError(400, -2010, "Stop price would trigger immediately.")
        self.orders[order.order_id] = order
        if marketable:
            self._fill(account, order, sym.price, maker=False)
        else:
            self._lock(account, order)
        return order.as_json() | {"transactTime": now, "fills": list(order.fills)}

    def _get_order(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._find(params).as_json()

    def _cancel_order(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self._find(params)
        if order.status != "NEW":
            raise BinanceError(400, -2011, "Unknown order sent.")
        self._release(self.accounts[order.api_key], order)
        order.status = "CANCELED"
        order.update_time = _now_ms()
        return order.as_json() | {"origClientOrderId": order.client_order_id}

    def _open_orders(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        account: Account = params["_account"]
        return [
            o.as_json()
            for o in self.orders.values()
            if o.api_key == account.api_key and o.status == "NEW"
        ]

    def _my_trades(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        account: Account = params["_account"]
        sym = self._symbol(params)
        out = []
        for order in self.orders.values():
            if order.api_key != account.api_key or order.symbol is not sym:
                continue
            if "orderId" in params and str(order.order_id) != params["orderId"]:
                continue
            for fill in order.fills:
                out.append(
                    {
                        "symbol": sym.id,
                        "id": fill["tradeId"],
                        "orderId": order.order_id,
                        "orderListId": -1,
                        "price": fill["price"],
                        "qty": fill["qty"],
                        "quoteQty": f"{Decimal(fill['price']) * Decimal(fill['qty']):f}",
                        "commission": fill["commission"],
                        "commissionAsset": fill["commissionAsset"],
                        "time": fill["time"],
                        "isBuyer": order.side == "BUY",
                        "isMaker": fill["maker"],
                        "isBestMatch": True,
                    }
                )
        return out

    # -- matching -----------------------------------------------------------------------------

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
        now = _now_ms()
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
