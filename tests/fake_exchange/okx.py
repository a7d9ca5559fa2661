"""A local stand-in for OKX's v5 spot REST API: the subset ccxt uses, with real signatures.

Endpoints (under ``/api/v5``): ``public/instruments`` (load_markets), ``market/ticker`` and
``market/tickers``, ``market/candles`` and ``market/history-candles`` (fetch_ohlcv),
``account/balance``, ``trade/batch-orders`` and ``trade/order`` POST (create_order),
``trade/order`` GET (fetch_order),
``trade/cancel-order``, ``trade/fills`` and ``trade/fills-history`` (fetch_order_trades).

Private requests carry ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-TIMESTAMP``
(ISO 8601, within 30 s) and ``OK-ACCESS-SIGN``: base64 of HMAC-SHA256 over timestamp + method +
request path (with its query) + body, keyed by the secret, as OKX checks them. Answers are
``{"code": "0", "msg": "", "data": [...]}``; failures carry OKX's own codes (``sCode`` per
order). Accounts, the book and fills are ``base.FakeExchange``'s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
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

SKEW_MS = 30_000
BARS = {"1m": 1, "5m": 5, "15m": 15, "1H": 60, "4H": 240, "1D": 1440, "1Dutc": 1440}
STATES = {"NEW": "live", "FILLED": "filled", "CANCELED": "canceled"}
REFUSALS = {
    Refused.INVALID_SYMBOL: ("51001", "Instrument ID does not exist."),
    Refused.BAD_ORDER: ("51000", "Parameter ordType error"),
    Refused.LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
    Refused.PRICE_FILTER: ("51000", "Parameter px error"),
    Refused.MIN_NOTIONAL: ("51020", "Order amount should be greater than the min available amount."),
    Refused.INSUFFICIENT: ("51008", "Order failed. Insufficient USDT balance in account."),
    Refused.DUPLICATE: ("51016", "Duplicated clOrdId"),
    Refused.WOULD_TRIGGER: ("51000", "Parameter slTriggerPx error"),
    Refused.NOT_FOUND: ("51603", "Order does not exist"),
    Refused.NOT_OPEN: ("51400", "Order cancellation failed as the order has been filled, canceled or does not exist."),
}  # fmt: skip


class OkxError(Exception):
    def __init__(self, code: str, msg: str, *, status: int = 200, per_order: bool = False):
        super().__init__(msg)
        self.code, self.msg, self.status, self.per_order = code, msg, status, per_order

    def body(self) -> dict[str, Any]:
        if self.per_order:  # trade endpoints: code 1, the reason in the order's sCode / sMsg
            return {
                "code": "1",
                "msg": "Operation failed.",
                "data": [{"sCode": self.code, "sMsg": self.msg, "ordId": "", "clOrdId": ""}],
            }
        return {"code": self.code, "msg": self.msg, "data": []}


def inst_id(sym: Symbol) -> str:
    return f"{sym.base}-{sym.quote}"


class FakeOkx(FakeExchange):
    """``async with FakeOkx() as fake:``; accounts need a passphrase (``add_account(k, s, p)``)."""

    def routes(self) -> list[tuple[str, str, Handler]]:
        table = [
            ("GET", "/api/v5/public/time", self._time, False),
            ("GET", "/api/v5/public/instruments", self._instruments, False),
            ("GET", "/api/v5/market/ticker", self._ticker, False),
            ("GET", "/api/v5/market/tickers", self._tickers, False),
            ("GET", "/api/v5/market/candles", self._candles, False),
            ("GET", "/api/v5/market/history-candles", self._candles, False),
            ("GET", "/api/v5/account/balance", self._balance, True),
            ("POST", "/api/v5/trade/order", self._create_order, True),
            ("POST", "/api/v5/trade/batch-orders", self._batch_orders, True),
            ("GET", "/api/v5/trade/order", self._get_order, True),
            ("POST", "/api/v5/trade/cancel-order", self._cancel_order, True),
            ("GET", "/api/v5/trade/fills", self._fills, True),
            ("GET", "/api/v5/trade/fills-history", self._fills, True),
        ]
        return [(m, p, self._wrap(h, signed, m == "POST")) for m, p, h, signed in table]

    def _wrap(self, handler: Any, signed: bool, per_order: bool) -> Handler:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            failure = self.arrive(request)
            try:
                if failure is Failure.TIMEOUT:
                    await self.hang()
                    raise OkxError("50004", "Endpoint request timeout.", status=504)
                if failure is Failure.RATE_LIMIT:
                    raise OkxError("50011", "Too Many Requests", status=429)
                if failure is Failure.SERVER_ERROR:
                    return web.Response(status=503, text="Service Unavailable")
                if failure is Failure.BAD_SIGNATURE:
                    raise OkxError("50113", "Invalid Sign", status=401)
                if failure is Failure.INSUFFICIENT_BALANCE:
                    raise OkxError(*REFUSALS[Refused.INSUFFICIENT], per_order=True)
                params = await self._params(request, signed)
                try:
                    data = handler(params)
                except Refusal as refusal:
                    raise OkxError(*REFUSALS[refusal.kind], per_order=per_order) from None
                if failure is Failure.TIMEOUT_AFTER:
                    await self.hang()
                return web.json_response({"code": "0", "msg": "", "data": data})
            except OkxError as exc:
                return web.json_response(exc.body(), status=exc.status)

        return endpoint

    async def _params(self, request: web.Request, signed: bool) -> dict[str, Any]:
        body = await request.text()
        params: dict[str, Any] = dict(request.query)
        sent = json.loads(body) if body else {}
        if isinstance(sent, list):  # batch-orders: a list of orders
            params["_batch"] = sent
        else:
            params |= sent
        if not signed:
            return params
        account = self.accounts.get(request.headers.get("OK-ACCESS-KEY", ""))
        if account is None:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", status=401)
        if request.headers.get("OK-ACCESS-PASSPHRASE") != account.passphrase:
            raise OkxError("50105", "Invalid OK-ACCESS-PASSPHRASE.", status=401)
        stamp = request.headers.get("OK-ACCESS-TIMESTAMP", "")
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        expected = base64.b64encode(
            hmac.new(
                account.secret.encode(),
                (stamp + request.method + path + body).encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        if not hmac.compare_digest(request.headers.get("OK-ACCESS-SIGN", ""), expected):
            raise OkxError("50113", "Invalid Sign", status=401)
        try:
            at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", status=401) from None
        if abs(now_ms() - at) > SKEW_MS:
            raise OkxError("50102", "Timestamp request expired.", status=401)
        params["_account"] = account
        return params

    def _symbol(self, params: dict[str, Any]) -> Symbol:
        base, _, quote = str(params.get("instId", "")).partition("-")
        sym = self.symbols.get(base + quote)
        if sym is None:
            raise Refusal(Refused.INVALID_SYMBOL)
        return sym

    # -- public -------------------------------------------------------------------------------

    def _time(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"ts": str(now_ms())}]

    def _instruments(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if params.get("instType") != "SPOT":
            return []
        return [
            {
                "instType": "SPOT",
                "instId": inst_id(s),
                "uly": "",
                "instFamily": "",
                "baseCcy": s.base,
                "quoteCcy": s.quote,
                "settleCcy": "",
                "ctVal": "",
                "ctMult": "",
                "ctValCcy": "",
                "optType": "",
                "stk": "",
                "listTime": "1606468572000",
                "expTime": "",
                "lever": "10",
                "tickSz": f"{s.tick:f}",
                "lotSz": f"{s.step:f}",
                "minSz": f"{s.min_qty:f}",
                "ctType": "",
                "alias": "",
                "state": "live",
                "maxLmtSz": "9999999999",
                "maxMktSz": "1000000",
                "maxTwapSz": "",
                "maxIcebergSz": "",
                "maxTriggerSz": "",
                "maxStopSz": "",
                "ruleType": "normal",
            }
            for s in self.symbols.values()
        ]

    @staticmethod
    def _ticker_of(s: Symbol) -> dict[str, Any]:
        price = f"{s.price:f}"
        return {
            "instType": "SPOT",
            "instId": inst_id(s),
            "last": price,
            "lastSz": "1",
            "askPx": price,
            "askSz": "1",
            "bidPx": price,
            "bidSz": "1",
            "open24h": price,
            "high24h": price,
            "low24h": price,
            "volCcy24h": f"{s.price * 1000:f}",
            "vol24h": "1000",
            "ts": str(now_ms()),
            "sodUtc0": price,
            "sodUtc8": price,
        }

    def _ticker(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._ticker_of(self._symbol(params))]

    def _tickers(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._ticker_of(s) for s in self.symbols.values()]

    def _candles(self, params: dict[str, Any]) -> list[list[str]]:
        """Newest first, as OKX answers; ``before`` / ``after`` bound the open times (exclusive)."""
        sym = self._symbol(params)
        bar = params.get("bar", "1m")
        minutes = BARS.get(bar)
        if minutes is None:
            raise Refusal(Refused.BAD_ORDER)
        interval = {"1H": "1h", "4H": "4h", "1D": "1d", "1Dutc": "1d"}.get(bar, bar)
        after = int(params["after"]) if "after" in params else None
        before = int(params["before"]) if "before" in params else None
        rows = self.candles(
            sym,
            interval,
            minutes,
            start=before + 1 if before is not None else None,
            end=after - 1 if after is not None else None,
            limit=min(int(params.get("limit", 100)), 300),
        )
        return [
            [str(t), str(o), str(h), str(low), str(c), str(v), str(v * c), str(v * c), "1"]
            for t, o, h, low, c, v in reversed(rows)
        ]

    # -- private ------------------------------------------------------------------------------

    def _balance(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        account: Account = params["_account"]
        details = [
            {
                "ccy": asset,
                "availBal": f"{free:f}",
                "frozenBal": f"{locked:f}",
                "cashBal": f"{free + locked:f}",
                "eq": f"{free + locked:f}",
                "availEq": f"{free:f}",
                "ordFrozen": f"{locked:f}",
                "uTime": str(now_ms()),
            }
            for asset, (free, locked) in sorted(account.balances.items())
        ]
        return [{"totalEq": "0", "uTime": str(now_ms()), "details": details}]

    def _order_json(self, order: Order) -> dict[str, Any]:
        fee = sum((Decimal(f["commission"]) for f in order.fills), Decimal(0))
        average = order.cum_quote / order.executed if order.executed else Decimal(0)
        return {
            "instType": "SPOT",
            "instId": inst_id(order.symbol),
            "ordId": str(order.order_id),
            "clOrdId": order.client_order_id,
            "tag": "",
            "px": f"{order.price:f}" if order.price is not None else "",
            "sz": f"{order.quantity:f}",
            "ordType": order.type.lower(),
            "side": order.side.lower(),
            "tdMode": "cash",
            "tgtCcy": "base_ccy",
            "accFillSz": f"{order.executed:f}",
            "fillPx": order.fills[-1]["price"] if order.fills else "",
            "fillSz": order.fills[-1]["qty"] if order.fills else "0",
            "avgPx": f"{average:f}" if order.executed else "",
            "state": STATES[order.status],
            "fee": f"{-fee:f}",
            "feeCcy": order.fills[-1]["commissionAsset"] if order.fills else "",
            "cTime": str(order.time),
            "uTime": str(order.update_time or order.time),
        }

    def _create_order(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if params.get("tdMode") != "cash":
            raise Refusal(Refused.BAD_ORDER)
        try:
            quantity = Decimal(str(params["sz"]))
        except (KeyError, ArithmeticError):
            raise Refusal(Refused.LOT_SIZE) from None
        kind = {"market": "MARKET", "limit": "LIMIT"}.get(str(params.get("ordType")), "")
        order = self.place(
            params["_account"],
            self._symbol(params),
            side=str(params.get("side", "")).upper(),
            kind=kind,
            quantity=quantity,
            price=Decimal(str(params["px"])) if params.get("px") else None,
            stop=None,
            client_id=params.get("clOrdId"),
        )
        return [{"ordId": str(order.order_id), "clOrdId": order.client_order_id, "tag": "",
                 "sCode": "0", "sMsg": "Order placed"}]  # fmt: skip

    def _batch_orders(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """ccxt's default for one order too; a refused one fails the call with its sCode."""
        return [
            self._create_order(entry | {"_account": params["_account"]})[0]
            for entry in params.get("_batch", [])
        ]

    def _find(self, params: dict[str, Any]) -> Order:
        return self.find(
            params["_account"], self._symbol(params), params.get("ordId"), params.get("clOrdId")
        )

    def _get_order(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [self._order_json(self._find(params))]

    def _cancel_order(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        order = self.cancel(self._find(params))
        return [{"ordId": str(order.order_id), "clOrdId": order.client_order_id,
                 "sCode": "0", "sMsg": ""}]  # fmt: skip

    def _fills(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        account: Account = params["_account"]
        out = []
        for order in self.orders.values():
            if order.api_key != account.api_key:
                continue
            if "instId" in params and inst_id(order.symbol) != params["instId"]:
                continue
            if "ordId" in params and str(order.order_id) != params["ordId"]:
                continue
            for fill in order.fills:
                out.append(
                    {
                        "instType": "SPOT",
                        "instId": inst_id(order.symbol),
                        "tradeId": str(fill["tradeId"]),
                        "ordId": str(order.order_id),
                        "clOrdId": order.client_order_id,
                        "billId": str(fill["tradeId"]),
                        "tag": "",
                        "fillPx": fill["price"],
                        "fillSz": fill["qty"],
                        "side": order.side.lower(),
                        "posSide": "net",
                        "execType": "M" if fill["maker"] else "T",
                        "feeCcy": fill["commissionAsset"],
                        "fee": f"-{fill['commission']}",
                        "ts": str(fill["time"]),
                    }
                )
        return out
