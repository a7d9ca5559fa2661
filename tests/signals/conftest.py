"""A real receiver on 127.0.0.1, a frozen clock, providers to send to, and signed requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from core.clock import FrozenClock
from core.db.engine import Database
from core.services import signals as service
from core.services.actor import Actor
from core.signals import signing
from core.signals.receiver import create_app
from tests.service_users import add_user


@dataclass
class Receiver:
    base: str
    http: aiohttp.ClientSession
    clock: FrozenClock

    async def post(
        self,
        path: str,
        body: bytes,
        *,
        key: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        ts = int(self.clock.now().timestamp()) if timestamp is None else timestamp
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent[signing.TIMESTAMP_HEADER] = str(ts)
            sent[signing.SIGNATURE_HEADER] = "sha256=" + signing.sign(key, ts, body)
        sent.update(headers or {})
        async with self.http.post(self.base + path, data=body, headers=sent) as response:
            return response.status, await response.json(), dict(response.headers)


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def receiver(db: Database, clock: FrozenClock) -> AsyncIterator[Receiver]:
    runner, base = await start_app(create_app(db, clock=clock))
    async with aiohttp.ClientSession() as http:
        yield Receiver(base, http, clock)
    await runner.cleanup()


@pytest.fixture
async def alice(db: Database) -> Actor:
    return await add_user(db, "alice@example.com")


@pytest.fixture
async def webhook(db: Database, alice: Actor, clock: FrozenClock) -> service.ProviderWithKey:
    return await service.create_provider(db, alice, name="desk", type="webhook", clock=clock)


def body(**fields: Any) -> bytes:
    return json.dumps({"symbol": "BTC/USDT", "action": "BUY", **fields}).encode()


SNAPSHOT_TABLES = ("signals", "signal_nonces", "signal_providers")


async def snapshot(db: Database) -> dict[str, str]:
    """A digest of every row of the signal tables, to prove a refused request changed nothing."""
    async with db.session() as s:
        return {
            t: await s.scalar(
                text(
                    f"SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {t} x"
                )
            )
            for t in SNAPSHOT_TABLES
        }
