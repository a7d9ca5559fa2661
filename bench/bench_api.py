"""REST API speed: latency of authenticated requests over real HTTP, and throughput with
concurrent clients.

A scratch database gets one user with ``--bots`` paper bots and an API key; uvicorn serves the
API on a free port in this process and an httpx client (same process, keep-alive) calls
``GET /account`` (the key check alone: one short transaction) and ``GET /bots`` (the key check
plus the bot list with P&L), first one at a time, then ``--concurrency`` at once.

    python bench/bench_api.py [--bots 20] [--requests 300] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.api.context import ApiContext
from core.api.ratelimit import RateLimiter
from core.api.server import bind, serve
from core.db import migrate
from core.db.engine import Database
from core.engine.venues import Markets
from core.services import api_keys, bots
from core.services.bot_views import BotSpec
from tests import pg
from tests.service_users import add_user

CONFIG = {
    "symbol": "BTC/USDT",
    "timeframe": "1h",
    "indicator": {"name": "sma_cross", "fast": 5, "slow": 12},
}


async def sequential(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        answer = await client.get(path)
        samples.append(time.perf_counter() - started)
        answer.raise_for_status()
    return samples


async def concurrent(client: httpx.AsyncClient, path: str, n: int, width: int) -> float:
    queue = iter(range(n))

    async def worker() -> None:
        for _ in queue:
            (await client.get(path)).raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return n / (time.perf_counter() - started)


async def main(bot_count: int, requests: int, width: int) -> None:
    url = await pg.create_database("bbx_bench_api")
    db = Database(url)
    try:
        await migrate.upgrade(db)
        actor = await add_user(db, "bench@example.com", plan="enterprise")
        async with db.sessions.begin() as s:
            for i in range(bot_count):
                await bots.create_bot(
                    s, actor, BotSpec(name=f"bot {i}", type="signal", config=CONFIG)
                )
        key = (await api_keys.create_api_key(db, actor, "bench", ["read"])).key
        ctx = ApiContext(db, Markets.simulated(), limiter=RateLimiter(rate=1e9, burst=10**9))
        stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(ctx, bind("127.0.0.1", 0), stop=stop, on_ready=ready.set_result)
        )
        base = await ready
        headers = {"Authorization": f"Bearer {key}"}
        limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
        async with httpx.AsyncClient(
            base_url=base + "/api/v1", headers=headers, limits=limits
        ) as client:
            await sequential(client, "/bots", 20)  # warm up: pools, statement caches
            for path in ("/account", "/bots"):
                samples = sorted(await sequential(client, path, requests))
                p99 = samples[int(len(samples) * 0.99) - 1]
                rate = await concurrent(client, path, requests, width)
                print(
                    f"GET {path:<9} one at a time: p50 {statistics.median(samples) * 1000:6.1f} ms, "
                    f"p99 {p99 * 1000:6.1f} ms; {width} at once: {rate:6.0f} requests/s"
                )
        print(
            f"({bot_count} bots, {requests} requests per figure, client and server in one process)"
        )
        stop.set()
        await task
    finally:
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.bots, args.requests, args.concurrency))
