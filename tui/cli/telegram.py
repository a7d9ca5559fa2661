"""``blockbotx telegram serve``: Telegram control of paired accounts, until SIGTERM or Ctrl+C.

The bot is the one whose token is in ``telegram_bot_token`` (``BLOCKBOTX_TELEGRAM_BOT_TOKEN``,
the notifications bot), reached at ``telegram_api_url``. Users pair a chat in the Security
screen (Telegram tab). One process per bot: Telegram gives each update to one poller.
"""

from __future__ import annotations

import asyncio
import signal

import click
from telegram.error import InvalidToken, NetworkError

from core.config import get_settings
from core.db.engine import Database
from core.engine.venues import Markets
from core.services.trading import TradingContext
from core.telegram.bot import serve as serve_telegram
from core.telegram.commands import Control
from tui.cli.runtime import (
    console,
    fail,
    headless_logging,
    log_format_option,
    run_with_db,
)


@click.group("telegram")
def telegram_group() -> None:
    """Telegram control: paired chats drive their accounts (/status, /profit, /forceexit …)."""


@telegram_group.command("serve")
@log_format_option
@click.option(
    "--poll-timeout",
    default=10,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Seconds one long poll of getUpdates may wait.",
)
def serve(log_format: str, poll_timeout: int) -> None:
    """Answer the commands of paired Telegram chats until SIGTERM or Ctrl+C."""
    headless_logging(log_format)
    settings = get_settings()
    secret = settings.telegram_bot_token
    if secret is None:
        fail("set telegram_bot_token (BLOCKBOTX_TELEGRAM_BOT_TOKEN) to the bot's token first")
        return
    token = secret.get_secret_value()

    async def _go(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        markets = Markets.simulated()
        control = Control(
            db, TradingContext(hubs=markets.hubs, exchanges=markets.exchanges), clock=markets.clock
        )

        def ready(name: str) -> None:
            console.print(f"Telegram control running as @{name} (Ctrl+C to stop)", highlight=False)

        try:
            await serve_telegram(
                db,
                control,
                token=token,
                api_url=settings.telegram_api_url,
                stop=stop,
                poll_timeout=poll_timeout,
                on_ready=ready,
            )
        except InvalidToken:
            fail("Telegram refused the bot token (telegram_bot_token)")
        except NetworkError as exc:
            fail(f"cannot reach the Bot API at {settings.telegram_api_url}: {exc.message}")
        finally:
            await markets.hubs.close()
        console.print("Stopped.", highlight=False)

    run_with_db(_go)
