"""The Telegram bot (python-telegram-bot): long-polls the Bot API and answers paired chats.

Only private chats count (a group's members would all act as one account). Every update
re-reads which account the chat belongs to and that account's standing, so unpairing, a ban or
a suspension takes effect on the next message. An unpaired chat gets no answer, except to a
``/start CODE`` pairing attempt (at most ``PAIRING_PER_MINUTE`` a minute per chat).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.errors import Forbidden, ServiceError
from core.services.actor import Actor
from core.services.telegram_links import chat_actor, pair_chat
from core.signals.ratelimit import RateLimiter
from core.telegram.commands import HELP, Control, Reply

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup, Update
    from telegram.ext import Application, ContextTypes

# python-telegram-bot is imported when the bot is built, not with this module: it pulls in
# httpx, whose command-line part imports rich, and core stays free of rich (tests/test_layers).

log = logging.getLogger(__name__)

PAIRING_PER_MINUTE = 5
TELEGRAM_LIMIT = 4096
PAIRED = "This chat now controls your BlockbotX account.\n\n" + HELP
TROUBLE = "Something went wrong; the details are in the server's log."


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label[:64], callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


def _clip(text: str) -> str:
    return text if len(text) <= TELEGRAM_LIMIT else text[: TELEGRAM_LIMIT - 1] + "…"


class TelegramControl:
    """The handlers, bound to a database, the trading context and a clock."""

    def __init__(self, db: Database, control: Control, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db, self.control, self.clock = db, control, clock
        self.pairing = RateLimiter(clock)

    async def _actor(self, chat_id: int) -> Actor | str | None:
        """The chat's account; a refusal's message when it may not act; None when unpaired."""
        try:
            return await chat_actor(self.db, chat_id, clock=self.clock)
        except Forbidden as exc:
            return str(exc)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        command = message.text.split()[0][1:].partition("@")[0].lower()
        args = list(context.args or [])
        if command == "start" and args:
            await self._pair(update, chat.id, args[0])
            return
        found = await self._actor(chat.id)
        if found is None:
            return  # unpaired: nothing
        if isinstance(found, str):
            await message.reply_text(found)
            return
        if command == "start":
            reply = Reply("This chat is already paired.\n\n" + HELP)
        else:
            reply = await self._safely(self.control.run(found, command, args))
        await message.reply_text(_clip(reply.text), reply_markup=markup(reply))

    async def _pair(self, update: Update, chat_id: int, code: str) -> None:
        message = update.effective_message
        assert message is not None
        if self.pairing.take(str(chat_id), PAIRING_PER_MINUTE) is not None:
            return  # too many attempts: no answer to a guesser
        try:
            await pair_chat(self.db, chat_id, code, clock=self.clock)
        except ServiceError as exc:
            await message.reply_text(str(exc))
            return
        log.info("telegram chat %s paired", chat_id)
        await message.reply_text(PAIRED)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        found = await self._actor(chat.id)
        if not isinstance(found, Actor):
            await query.answer(found[:200] if found else None, show_alert=bool(found))
            return
        await query.answer()
        reply = await self._safely(self.control.callback(found, query.data or ""))
        await query.edit_message_text(_clip(reply.text), reply_markup=markup(reply))

    async def _safely(self, pending: Awaitable[Reply]) -> Reply:
        try:
            return await pending
        except Exception:
            log.exception("a Telegram command failed")
            return Reply(TROUBLE)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("Telegram: %s", type(context.error).__name__, exc_info=context.error)


def build(handlers: TelegramControl, *, token: str, api_url: str) -> Application:
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, filters

    base = api_url.rstrip("/")
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )
    private = filters.ChatType.PRIVATE
    names = ["start", *handlers.control.commands]
    application.add_handler(CommandHandler(names, handlers.on_command, filters=private))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_error_handler(handlers.on_error)
    return application


async def serve(
    db: Database,
    control: Control,
    *,
    token: str,
    api_url: str,
    stop: asyncio.Event,
    clock: Clock = SYSTEM_CLOCK,
    poll_timeout: float = 10,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Answer paired chats until ``stop`` is set; the update being handled is finished first."""
    application = build(TelegramControl(db, control, clock=clock), token=token, api_url=api_url)
    async with application:  # getMe: a wrong token fails here, before polling
        assert application.updater is not None
        await application.updater.start_polling(
            timeout=int(poll_timeout), allowed_updates=["message", "callback_query"]
        )
        await application.start()
        name = application.bot.username
        log.info("Telegram control running as @%s", name)
        if on_ready is not None:
            on_ready(name)
        try:
            await stop.wait()
        finally:
            await application.updater.stop()
            await application.stop()
