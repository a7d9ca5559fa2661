"""``blockbotx api serve``: the REST API (docs/api.md) until SIGTERM or Ctrl+C."""

from __future__ import annotations

import asyncio
import signal

import click

from core.db.engine import Database
from tui.cli.runtime import (
    console,
    fail,
    headless_logging,
    log_format_option,
    run_with_db,
)


@click.group("api")
def api_group() -> None:
    """The REST API for scripts and remote control, authenticated by API keys."""


@api_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@log_format_option
@click.option(
    "--rate",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Requests per second each API key may make, on average.",
)
@click.option(
    "--burst",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests an API key may make at once after a quiet spell.",
)
def serve(host: str, port: int, log_format: str, rate: float, burst: int) -> None:
    """Serve /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs). SIGTERM lets
    the requests in flight finish before the process exits."""
    from core.api.context import ApiContext
    from core.api.ratelimit import RateLimiter
    from core.api.server import bind
    from core.api.server import serve as serve_api
    from core.engine.venues import Markets

    headless_logging(log_format)
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")

    async def _go(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        def ready(address: str) -> None:
            console.print(
                f"Serving the API on {address}/api/v1 (docs: {address}/api/v1/docs; "
                "Ctrl+C to stop)",
                highlight=False,
            )

        ctx = ApiContext(db, Markets.simulated(), limiter=RateLimiter(rate=rate, burst=burst))
        await serve_api(ctx, sock, stop=stop, on_ready=ready)
        console.print("Stopped.", highlight=False)

    run_with_db(_go)
