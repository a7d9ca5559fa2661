"""The fake exchange itself checks what Binance checks: API key header, HMAC signature, time."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import aiohttp

from tests.fake_exchange import FakeBinance


def signed(params: dict[str, str], secret: str) -> str:
    query = urlencode(params)
    return (
        query
        + "&signature="
        + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    )


async def test_signed_requests_are_verified() -> None:
    async with FakeBinance() as fake, aiohttp.ClientSession() as http:
        fake.add_account("key-1", "secret-1", USDT=100)
        stamp = str(int(time.time() * 1000))
        url = f"{fake.url}/api/v3/account"

        async with http.get(
            f"{url}?{signed({'timestamp': stamp}, 'secret-1')}", headers={"X-MBX-APIKEY": "key-1"}
        ) as ok:
            assert ok.status == 200
            body = await ok.json()
            assert {"asset": "USDT", "free": "100", "locked": "0"} in body["balances"]
            assert body["canWithdraw"] is False

        async with http.get(
            f"{url}?{signed({'timestamp': stamp}, 'wrong')}", headers={"X-MBX-APIKEY": "key-1"}
        ) as bad:
            assert bad.status == 400
            assert (await bad.json())["code"] == -1022

        async with http.get(f"{url}?{signed({'timestamp': stamp}, 'secret-1')}") as no_key:
            assert no_key.status == 401
            assert (await no_key.json())["code"] == -2015

        old = str(int(time.time() * 1000) - 3_600_000)
        async with http.get(
            f"{url}?{signed({'timestamp': old}, 'secret-1')}", headers={"X-MBX-APIKEY": "key-1"}
        ) as late:
            assert (await late.json())["code"] == -1021

        # A POST is signed over its form body; tampering after signing is caught.
        body = signed(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.001",
                "timestamp": stamp,
            },
            "secret-1",
        )
        headers = {"X-MBX-APIKEY": "key-1", "Content-Type": "application/x-www-form-urlencoded"}
        async with http.post(
            f"{fake.url}/api/v3/order", data=body.replace("0.001", "0.002"), headers=headers
        ) as tampered:
            assert (await tampered.json())["code"] == -1022
        assert fake.orders == {}


async def test_public_endpoints_need_no_key() -> None:
    async with FakeBinance() as fake, aiohttp.ClientSession() as http:
        async with http.get(f"{fake.url}/api/v3/ticker/24hr?symbol=ETHUSDT") as r:
            assert (await r.json())["lastPrice"] == "3000"
        async with http.get(f"{fake.url}/api/v3/ticker/24hr?symbol=NOPE") as r:
            assert r.status == 400 and (await r.json())["code"] == -1121
        async with http.get(f"{fake.url}/api/v3/exchangeInfo") as r:
            symbols = {s["symbol"] for s in (await r.json())["symbols"]}
            assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= symbols
