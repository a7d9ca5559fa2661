"""A local stand-in for Binance's spot REST API: the subset ccxt uses, with real signatures.

Endpoints (all under ``/api/v3``): ``exchangeInfo`` (load_markets), ``ticker/24hr``
(fetch_ticker / fetch_tickers), ``klines`` (fetch_ohlcv), ``account`` (fetch_balance),
``order`` POST / GET / DELETE (create_order / fetch_order / cancel_order), ``myTrades``
(fetch_order_trades), ``openOrders``, ``ping`` and ``time``.

Signed endpoints check the ``X-MBX-APIKEY`` header and the HMAC-SHA256 ``signature`` of the
query string (GET, DELETE) or the form body (POST), and the timestamp's receive window, as
Binance does. Accounts, the order book, fills and queued failures are ``base.FakeExchange``'s;
this module speaks Binance's protocol over them.

``set_history`` gives ``klines`` a stored candle history to page through (otherwise it makes
candles up around the last price).

Failures can be queued: the next matching request(s) answer HTTP 400 insufficient balance,
429, 503, a bad-signature error, or hang (before or after processing the order) so the
client times out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fake_exchange.base import (
    Account,
    Failure,
    FakeExchange,
    Handler,
    Order,
    Refusal,
    Refused,
    Symbol,
    now_ms,
)

RECV_WINDOW_MS = 60_000
REFUSALS = {
    Refused.INVALID_SYMBOL: (400, -1121, "Invalid symbol."),
    Refused.BAD_ORDER: (400, -1116, "Invalid orderType."),
    Refused.LOT_SIZE: (400, -1013, "Filter failure: LOT_SIZE"),
    Refused.PRICE_FILTER: (400, -1013, "Filter failure: PRICE_FILTER"),
    Refused.MIN_NOTIONAL: (400, -1013, "Filter failure: NOTIONAL"),
    Refused.INSUFFICIENT: (400, -2010, "Account has insufficient balance for requested action."),
    Refused.DUPLICATE: (400, -2010, "Duplicate order sent."),
    Refused.WOULD_TRIGGER: (400, -2010, "Stop price would trigger immediately."),
    Refused.NOT_FOUND: (400, -2013, "Order does not exist."),
    Refused.NOT_OPEN: (400, -2011, "Unknown order sent."),
}


def order_json(order: Order) -> dict[str, Any]:
    return {
        "symbol": order.symbol.id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": f"{order.price or 0:f}",
        "origQty": f"{order.quantity:f}",
        "executedQty": f"{order.executed:f}",
        "cummulativeQuoteQty": f"{order.cum_quote:f}",
        "status": order.status,
        "timeInForce": "GTC",
        "type": order.type,
        "side": order.side,
        "stopPrice": f"{order.stop_price or 0:f}",
        "icebergQty": "0",
        "time": order.time,
        "updateTime": order.update_time or order.time,
        "isWorking": order.status in ("NEW", "PARTIALLY_FILLED"),
        "workingTime": order.time,
        "origQuoteOrderQty": "0",
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg

    @classmethod
    def of(cls, refusal: Refusal) -> BinanceError:
        if refusal.kind is Refused.BAD_ORDER and str(refusal) == "stop price missing":
            return cls(
                400,
                -1102,
                "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
            )
        return cls(*REFUSALS[refusal.kind])


class FakeBinance(FakeExchange):
    """``async with FakeBinance() as fake:`` then point ccxt at ``fake.url``."""

    def routes(self) -> list[tuple[str, str, Handler]]:
        table = [
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
        return [
            (method, path, self._wrap(handler, signed)) for method, path, handler, signed in table
        ]

    def _wrap(self, handler: Any, signed: bool) -> Handler:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            failure = self.arrive(request)
            try:
                if failure is Failure.TIMEOUT:
                    await self.hang()
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
                try:
                    body = handler(params)
                except Refusal as refusal:
                    raise BinanceError.of(refusal) from None
                if failure is Failure.TIMEOUT_AFTER:
                    await self.hang()
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
        if abs(now_ms() - stamp) > window:
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
        return {"serverTime": now_ms()}

    def _exchange_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": now_ms(),
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
                    "minNotional": f"{s.min_notional:f}",
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
        now = now_ms()
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
        rows = self.candles(
            s,
            params["interval"],
            minutes,
            start=int(params["startTime"]) if "startTime" in params else None,
            end=int(params["endTime"]) if "endTime" in params else None,
            limit=min(int(params.get("limit", 500)), 1000),
        )
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
            "updateTime": now_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": f"{free:f}", "locked": f"{locked:f}"}
                for asset, (free, locked) in sorted(account.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 1,
        }

    def _find(self, params: dict[str, Any]) -> Order:
        return self.find(
            params["_account"],
            self._symbol(params),
            params.get("orderId"),
            params.get("origClientOrderId"),
        )

    def _create_order(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            quantity = Decimal(params["quantity"])
        except (KeyError, ArithmeticError):
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
            ) from None
        order = self.place(
            params["_account"],
            self._symbol(params),
            side=params.get("side", ""),
            kind=params.get("type", ""),
            quantity=quantity,
            price=Decimal(params["price"]) if "price" in params else None,
            stop=Decimal(params["stopPrice"]) if "stopPrice" in params else None,
            client_id=params.get("newClientOrderId"),
        )
        return order_json(order) | {"transactTime": order.time, "fills": list(order.fills)}

    def _get_order(self, params: dict[str, Any]) -> dict[str, Any]:
        return order_json(self._find(params))

    def _cancel_order(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.cancel(self._find(params))
        return order_json(order) | {"origClientOrderId": order.client_order_id}

    def _open_orders(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        account: Account = params["_account"]
        return [
            order_json(o)
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
