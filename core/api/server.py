"""Running the API under uvicorn until told to stop, finishing the requests in flight.

The caller owns the signals: it sets ``stop`` (on SIGTERM / Ctrl+C) and the server stops
accepting, lets the requests in flight finish (up to ``grace`` seconds), then returns.
uvicorn's own signal capture is off because it re-raises the signal after shutdown, which would
kill the process before the caller can tidy up.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator

import uvicorn

from core.api.app import create_app
from core.api.context import ApiContext

GRACE_SECONDS = 30


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port), so the address is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(
    ctx: ApiContext,
    sock: socket.socket,
    *,
    stop: asyncio.Event,
    on_ready: Callable[[str], None] | None = None,
    grace: int = GRACE_SECONDS,
) -> None:
    config = uvicorn.Config(
        create_app(ctx),
        log_config=None,  # our logging (file, and stderr for a server) is already set up
        timeout_graceful_shutdown=grace,
        lifespan="off",
        server_header=False,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task(stop.wait())
    try:
        while not server.started and not task.done():
            await asyncio.wait({task, waiter}, timeout=0.05, return_when="FIRST_COMPLETED")
            if waiter.done():
                break
        if server.started and on_ready is not None:
            on_ready(address(sock))
        await asyncio.wait({task, waiter}, return_when="FIRST_COMPLETED")
        server.should_exit = True
        await task
    finally:
        waiter.cancel()
        if not task.done():
            server.force_exit = True
            server.should_exit = True
            await task
        await ctx.markets.hubs.close()
