"""Binance's spot websocket market streams, as ccxt.pro speaks to them, over a ``FakeBinance``.

ccxt connects to ``<ws>/<n>``, sends ``{"method": "SUBSCRIBE", "params": ["btcusdt@ticker"],
"id": 1}``, expects ``{"result": null, "id": 1}``, then reads ``24hrTicker`` events. Here every
subscription gets the symbol's current ticker at once and a new event on each ``publish``.
``drop`` closes every connection and ``refuse`` turns new ones away, to test what happens when a
stream goes down and comes back.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_exchange.binance import FakeBinance, Symbol


class FakeBinanceStream:
    def __init__(self, rest: FakeBinance) -> None:
        self.rest = rest
        self.refuse = False
        self.connections = 0
        self.subscribed: dict[web.WebSocketResponse, set[str]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeBinanceStream:
        app = web.Application()
        app.router.add_get("/ws/{n}", self._connect)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- control ------------------------------------------------------------------------------

    async def publish(self, symbol: str, price: Decimal | str) -> None:
        """Move the price (resting orders fill as on the REST side) and stream the tick."""
        self.rest.set_price(symbol, price)
        sym = self.rest.symbols[symbol.replace("/", "")]
        stream = f"{sym.id.lower()}@ticker"
        for ws, streams in list(self.subscribed.items()):
            if stream in streams and not ws.closed:
                await ws.send_str(json.dumps(_event(sym)))

    async def drop(self) -> None:
        for ws in list(self.subscribed):
            await ws.close()
        self.subscribed.clear()

    # -- server -------------------------------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.Response(status=503, text="streams are down")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self.subscribed[ws] = set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                await self._command(ws, json.loads(message.data))
        finally:
            self.subscribed.pop(ws, None)
        return ws

    async def _command(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        params = data.get("params") or []
        if data.get("method") == "UNSUBSCRIBE":
            self.subscribed[ws].difference_update(params)
            await ws.send_str(json.dumps({"result": None, "id": data.get("id")}))
            return
        self.subscribed[ws].update(params)
        await ws.send_str(json.dumps({"result": None, "id": data.get("id")}))
        for stream in params:
            sym = self.rest.symbols.get(stream.split("@")[0].upper())
            if sym is not None and stream.endswith("@ticker"):
                await ws.send_str(json.dumps(_event(sym)))


def _event(sym: Symbol) -> dict[str, Any]:
    now = int(time.time() * 1000)
    price = f"{sym.price:f}"
    return {
        "e": "24hrTicker",
        "E": now,
        "s": sym.id,
        "p": "0",
        "P": "0",
        "w": price,
        "x": price,
        "c": price,
        "Q": "1",
        "b": price,
        "B": "1",
        "a": price,
        "A": "1",
        "o": price,
        "h": price,
        "l": price,
        "v": "1000",
        "q": f"{sym.price * 1000:f}",
        "O": now - 86_400_000,
        "C": now,
        "F": 1,
        "L": 2,
        "n": 2,
    }
