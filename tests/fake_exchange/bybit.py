"""A local stand-in for Bybit's v5 spot REST API (a unified trading account): the subset ccxt
uses, with real signatures.

Endpoints (under ``/v5``): ``market/instruments-info`` (load_markets), ``market/tickers``,
``market/kline`` (fetch_ohlcv), ``user/query-api`` and ``account/info`` (ccxt's account-type
check), ``account/wallet-balance``, ``order/create``, ``order/realtime`` (fetch_order),
``order/cancel`` and ``execution/list`` (fetch_order_trades).

Private requests carry ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and
``X-BAPI-SIGN``: hex HMAC-SHA256 over timestamp + key + receive window + the query string (GET)
or the JSON body (POST), as Bybit checks them, and the timestamp must fall in the window.
Answers are ``{"retCode": 0, "retMsg": "OK", "result": ...}``; refusals carry Bybit's own codes.
Accounts, the book and fills are ``base.FakeExchange``'s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

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

INTERVALS = {"1": 1, "5": 5, "15": 15, "60": 60, "240": 240, "D": 1440}
STATUS = {"NEW": "New", "FILLED": "Filled", "CANCELED": "Cancelled"}
REFUSALS = {
    Refused.INVALID_SYMBOL: (10001, "params error: symbol invalid"),
    Refused.BAD_ORDER: (10001, "params error: orderType invalid"),
    Refused.LOT_SIZE: (170137, "Order quantity has too many decimals."),
    Refused.PRICE_FILTER: (170134, "Order price has too many decimals."),
    Refused.MIN_NOTIONAL: (170140, "Order value exceeded lower limit."),
    Refused.INSUFFICIENT: (170131, "Insufficient balance."),
    Refused.DUPLICATE: (10001, "Duplicate clientOrderId."),
    Refused.WOULD_TRIGGER: (10001, "params error: triggerPrice invalid"),
    Refused.NOT_FOUND: (170213, "Order does not exist."),
    Refused.NOT_OPEN: (170213, "Order does not exist."),
}


class BybitError(Exception):
    def __init__(self, code: int, msg: str, *, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def _title(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


class FakeBybit(FakeExchange):
    """``async with FakeBybit() as fake:`` then point ccxt at ``fake.url``."""

    def routes(self) -> list[tuple[str, str, Handler]]:
        table = [
            ("GET", "/v5/market/time", self._time, False),
            ("GET", "/v5/market/instruments-info", self._instruments, False),
            ("GET", "/v5/market/tickers", self._tickers, False),
            ("GET", "/v5/market/kline", self._kline, False),
            ("GET", "/v5/user/query-api", self._query_api, True),
            ("GET", "/v5/account/info", self._account_info, True),
            ("GET", "/v5/account/wallet-balance", self._balance, True),
            ("POST", "/v5/order/create", self._create_order, True),
            ("GET", "/v5/order/realtime", self._get_order, True),
            ("GET", "/v5/order/history", self._get_order, True),
            ("POST", "/v5/order/cancel", self._cancel_order, True),
            ("GET", "/v5/execution/list", self._executions, True),
        ]
        return [(m, p, self._wrap(h, signed)) for m, p, h, signed in table]

    def _wrap(self, handler: Any, signed: bool) -> Handler:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            failure = self.arrive(request)
            try:
                if failure is Failure.TIMEOUT:
                    await self.hang()
                    raise BybitError(10000, "Server Timeout", status=504)
                if failure is Failure.RATE_LIMIT:
                    raise BybitError(10006, "Too many visits!", status=429)
                if failure is Failure.SERVER_ERROR:
                    return web.Response(status=503, text="Service Unavailable")
                if failure is Failure.BAD_SIGNATURE:
                    raise BybitError(10004, "error sign! origin_string[...]")
                if failure is Failure.INSUFFICIENT_BALANCE:
                    raise BybitError(*REFUSALS[Refused.INSUFFICIENT])
                params = await self._params(request, signed)
                try:
                    result = handler(params)
                except Refusal as refusal:
                    raise BybitError(*REFUSALS[refusal.kind]) from None
                if failure is Failure.TIMEOUT_AFTER:
                    await self.hang()
                return web.json_response(
                    {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                     "time": now_ms()}
                )  # fmt: skip
            except BybitError as exc:
                return web.json_response(
                    {"retCode": exc.code, "retMsg": exc.msg, "result": {}, "retExtInfo": {},
                     "time": now_ms()},
                    status=exc.status,
                )  # fmt: skip

        return endpoint

    async def _params(self, request: web.Request, signed: bool) -> dict[str, Any]:
        body = await request.text()
        params: dict[str, Any] = dict(request.query)
        if body:
            params |= json.loads(body)
        if not signed:
            return params
        key = request.headers.get("X-BAPI-API-KEY", "")
        account = self.accounts.get(key)
        if account is None:
            raise BybitError(10003, "API key is invalid.", status=401)
        stamp = request.headers.get("X-BAPI-TIMESTAMP", "")
        window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
        payload = body if request.method == "POST" else request.query_string
        expected = hmac.new(
            account.secret.encode(), (stamp + key + window + payload).encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-BAPI-SIGN", ""), expected):
            raise BybitError(10004, "error sign! origin_string[...]")
        if not stamp.isdigit() or abs(now_ms() - int(stamp)) > int(window):
            raise BybitError(
                10002, "invalid request, please check your server timestamp or recv_window param"
            )
        params["_account"] = account
        return params

    def _symbol(self, params: dict[str, Any]) -> Symbol:
        sym = self.symbols.get(str(params.get("symbol", "")))
        if sym is None:
            raise Refusal(Refused.INVALID_SYMBOL)
        return sym

    # -- public -------------------------------------------------------------------------------

    def _time(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"timeSecond": str(now_ms() // 1000), "timeNano": str(now_ms() * 1_000_000)}

    def _instruments(self, params: dict[str, Any]) -> dict[str, Any]:
        listed = [
            {
                "symbol": s.id,
                "baseCoin": s.base,
                "quoteCoin": s.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "none",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": f"{s.step:f}",
                    "quotePrecision": "0.00000001",
                    "minOrderQty": f"{s.min_qty:f}",
                    "maxOrderQty": "9000",
                    "minOrderAmt": f"{s.min_notional:f}",
                    "maxOrderAmt": "9000000",
                },
                "priceFilter": {"tickSize": f"{s.tick:f}"},
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            }
            for s in self.symbols.values()
        ]
        category = params.get("category")
        return {"category": category, "list": listed if category == "spot" else [],
                "nextPageCursor": ""}  # fmt: skip

    @staticmethod
    def _ticker_of(s: Symbol) -> dict[str, Any]:
        price = f"{s.price:f}"
        return {
            "symbol": s.id,
            "bid1Price": price,
            "bid1Size": "1",
            "ask1Price": price,
            "ask1Size": "1",
            "lastPrice": price,
            "prevPrice24h": price,
            "price24hPcnt": "0",
            "highPrice24h": price,
            "lowPrice24h": price,
            "turnover24h": f"{s.price * 1000:f}",
            "volume24h": "1000",
            "usdIndexPrice": price,
        }

    def _tickers(self, params: dict[str, Any]) -> dict[str, Any]:
        if "symbol" in params:
            found = [self._ticker_of(self._symbol(params))]
        else:
            found = [self._ticker_of(s) for s in self.symbols.values()]
        return {"category": "spot", "list": found}

    def _kline(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, as Bybit answers; ``start`` / ``end`` bound the open times."""
        sym = self._symbol(params)
        interval = str(params.get("interval", ""))
        minutes = INTERVALS.get(interval)
        if minutes is None:
            raise Refusal(Refused.BAD_ORDER)
        named = {"60": "1h", "240": "4h", "D": "1d"}.get(interval, f"{interval}m")
        rows = self.candles(
            sym,
            named,
            minutes,
            start=int(params["start"]) if "start" in params else None,
            end=int(params["end"]) if "end" in params else None,
            limit=min(int(params.get("limit", 200)), 1000),
        )
        return {
            "symbol": sym.id,
            "category": "spot",
            "list": [
                [str(t), str(o), str(h), str(low), str(c), str(v), str(v * c)]
                for t, o, h, low, c, v in reversed(rows)
            ],
        }

    # -- private ------------------------------------------------------------------------------

    def _query_api(self, params: dict[str, Any]) -> dict[str, Any]:
        account: Account = params["_account"]
        return {"apiKey": account.api_key, "readOnly": 0, "unified": 0, "uta": 1,
                "permissions": {"Spot": ["SpotTrade"]}}  # fmt: skip

    def _account_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "updatedTime": "0"}

    def _balance(self, params: dict[str, Any]) -> dict[str, Any]:
        account: Account = params["_account"]
        coins = [
            {
                "coin": asset,
                "walletBalance": f"{free + locked:f}",
                "locked": f"{locked:f}",
                "equity": f"{free + locked:f}",
                "availableToWithdraw": "",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": "0",
                "totalPositionIM": "0",
            }
            for asset, (free, locked) in sorted(account.balances.items())
        ]
        return {"list": [{"accountType": "UNIFIED", "coin": coins}]}

    def _order_json(self, order: Order) -> dict[str, Any]:
        fee = sum((Decimal(f["commission"]) for f in order.fills), Decimal(0))
        average = order.cum_quote / order.executed if order.executed else Decimal(0)
        return {
            "orderId": str(order.order_id),
            "orderLinkId": order.client_order_id,
            "symbol": order.symbol.id,
            "price": f"{order.price:f}" if order.price is not None else "0",
            "qty": f"{order.quantity:f}",
            "side": _title(order.side),
            "orderStatus": STATUS[order.status],
            "orderType": _title(order.type),
            "timeInForce": "GTC" if order.type == "LIMIT" else "IOC",
            "avgPrice": f"{average:f}" if order.executed else "",
            "leavesQty": f"{order.quantity - order.executed:f}",
            "cumExecQty": f"{order.executed:f}",
            "cumExecValue": f"{order.cum_quote:f}",
            "cumExecFee": f"{fee:f}",
            "marketUnit": "baseCoin" if order.type == "MARKET" else "",
            "createdTime": str(order.time),
            "updatedTime": str(order.update_time or order.time),
        }

    def _create_order(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("category") != "spot":
            raise Refusal(Refused.BAD_ORDER)
        if params.get("orderType") == "Market" and params.get("marketUnit") == "quoteCoin":
            raise Refusal(Refused.BAD_ORDER)  # BlockbotX sizes orders in the base asset
        try:
            quantity = Decimal(str(params["qty"]))
        except (KeyError, ArithmeticError):
            raise Refusal(Refused.LOT_SIZE) from None
        order = self.place(
            params["_account"],
            self._symbol(params),
            side=str(params.get("side", "")).upper(),
            kind=str(params.get("orderType", "")).upper(),
            quantity=quantity,
            price=Decimal(str(params["price"])) if params.get("price") else None,
            stop=None,
            client_id=params.get("orderLinkId"),
        )
        return {"orderId": str(order.order_id), "orderLinkId": order.client_order_id}

    def _find(self, params: dict[str, Any]) -> Order:
        return self.find(
            params["_account"],
            self._symbol(params),
            params.get("orderId"),
            params.get("orderLinkId"),
        )

    def _get_order(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            found = [self._order_json(self._find(params))]
        except Refusal:
            found = []  # Bybit lists nothing for an order it doesn't know
        return {"category": "spot", "list": found, "nextPageCursor": ""}

    def _cancel_order(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.cancel(self._find(params))
        return {"orderId": str(order.order_id), "orderLinkId": order.client_order_id}

    def _executions(self, params: dict[str, Any]) -> dict[str, Any]:
        account: Account = params["_account"]
        out = []
        for order in self.orders.values():
            if order.api_key != account.api_key:
                continue
            if "symbol" in params and order.symbol.id != params["symbol"]:
                continue
            if "orderId" in params and str(order.order_id) != params["orderId"]:
                continue
            for fill in order.fills:
                out.append(
                    {
                        "symbol": order.symbol.id,
                        "orderId": str(order.order_id),
                        "orderLinkId": order.client_order_id,
                        "side": _title(order.side),
                        "orderPrice": f"{order.price or 0:f}",
                        "orderQty": f"{order.quantity:f}",
                        "orderType": _title(order.type),
                        "execFee": fill["commission"],
                        "feeCurrency": fill["commissionAsset"],
                        "execId": str(fill["tradeId"]),
                        "execPrice": fill["price"],
                        "execQty": fill["qty"],
                        "execType": "Trade",
                        "execValue": f"{Decimal(fill['price']) * Decimal(fill['qty']):f}",
                        "execTime": str(fill["time"]),
                        "isMaker": fill["maker"],
                        "feeRate": "0.001",
                    }
                )
        return {"category": "spot", "list": out, "nextPageCursor": ""}
