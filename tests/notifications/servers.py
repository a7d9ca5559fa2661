"""Real local servers standing in for the mail server, Telegram's bot API and Discord."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope


@dataclass
class MailSink:
    """An aiosmtpd handler that keeps every message it is handed."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        raw = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


async def start_smtp() -> tuple[asyncio.Server, int, MailSink]:
    sink = MailSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="localhost"), host="127.0.0.1", port=0
    )
    return server, server.sockets[0].getsockname()[1], sink


TEXT_FIELDS = {"text", "callback_query_id", "callback_data", "parse_mode", "url"}
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "BlockbotX", "username": "blockbotx_test_bot"}


async def bot_api_params(request: web.Request) -> dict[str, Any]:
    """A Bot API call's parameters, sent as JSON (our notifier) or as a form whose non-text
    values are JSON (python-telegram-bot), or in the query string."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    for name, value in (await request.post()).items():
        if not isinstance(value, str) or name in TEXT_FIELDS:
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


@dataclass
class ChatApi:
    """Telegram's Bot API (``/bot<token>/<method>``) and Discord ``/api/webhooks/<id>/<token>``.

    For notifications: ``sendMessage`` (kept in ``telegram``). For Telegram control, what
    python-telegram-bot calls: ``getMe``, ``deleteWebhook``, long-polled ``getUpdates`` (fed by
    ``user_says`` / ``user_presses``), ``sendMessage``, ``answerCallbackQuery`` and
    ``editMessageText``; every call is kept in ``calls`` as (method, parameters).
    ``fail_next`` makes the next requests answer with that status (a channel that is down).
    """

    token: str = "123456:TEST-TOKEN"
    telegram: list[dict[str, Any]] = field(default_factory=list)
    discord: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    bad_token_hits: int = 0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _next_update: int = 1
    _next_message: int = 1000

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._telegram)
        app.router.add_post("/bot{token}/{method}", self._bot_method)
        app.router.add_post("/api/webhooks/{hook}/{secret}", self._discord)
        return app

    # -- what a Telegram user does ---------------------------------------------------------------

    def _message(
        self, chat_id: int | str, text: str, *, chat_type: str = "private", bot: bool = False
    ) -> dict[str, Any]:
        self._next_message += 1
        sender = BOT_USER if bot else {"id": chat_id, "is_bot": False, "first_name": "Trader"}
        message: dict[str, Any] = {
            "message_id": self._next_message,
            "date": 1767268800,
            "chat": {"id": chat_id, "type": chat_type},
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return message

    async def _push(self, update: dict[str, Any]) -> int:
        async with self._changed:
            update["update_id"] = self._next_update
            self._next_update += 1
            self.updates.append(update)
            self._changed.notify_all()
        return int(update["update_id"])

    async def user_says(self, chat_id: int, text: str, *, chat_type: str = "private") -> int:
        """A message from a user to the bot; returns the message id."""
        message = self._message(chat_id, text, chat_type=chat_type)
        await self._push({"message": message})
        return int(message["message_id"])

    async def user_presses(self, chat_id: int, message_id: int, data: str) -> None:
        """A press on an inline button of the bot's message ``message_id``."""
        message = {**self._message(chat_id, "(buttons)", bot=True), "message_id": message_id}
        query = {
            "id": f"cb{self._next_update}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Trader"},
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
        await self._push({"callback_query": query})

    def sent(self, chat_id: int, method: str | None = None) -> list[dict[str, Any]]:
        """What the bot sent to (or edited in) this chat, oldest first."""
        wanted = {method} if method else {"sendMessage", "editMessageText"}
        return [p for m, p in self.calls if m in wanted and p.get("chat_id") == chat_id]

    async def wait_sent(
        self, chat_id: int, count: int, *, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Wait (generously) until the bot has sent ``count`` messages or edits to the chat."""

        async def enough() -> list[dict[str, Any]]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent(chat_id)) >= count)
            return self.sent(chat_id)

        return await asyncio.wait_for(enough(), timeout)

    async def wait_read(self, update_id: int, *, timeout: float = 60) -> None:
        """Wait until the bot has confirmed reading update ``update_id`` (a later offset)."""

        async def read() -> None:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: any(
                        m == "getUpdates" and int(p.get("offset") or 0) > update_id
                        for m, p in self.calls
                    )
                )

        await asyncio.wait_for(read(), timeout)

    # -- the Bot API -----------------------------------------------------------------------------

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()

    async def _bot_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.bad_token_hits += 1
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await bot_api_params(request)
        await self._record(method, params)
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("deleteWebhook", "answerCallbackQuery", "setMyCommands"):
            return self._ok(True)
        if method == "getUpdates":
            return self._ok(await self._updates(params))
        if method == "editMessageText":
            message = self._message(int(params["chat_id"]), str(params["text"]), bot=True)
            return self._ok({**message, "message_id": int(params["message_id"])})
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= offset]

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: bool(pending()))
        return pending()

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _failure(self) -> web.Response | None:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response(
                {"ok": False, "description": "Service Unavailable", "message": "down"},
                status=status,
            )
        return None

    async def _telegram(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.bad_token_hits += 1
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        if (failure := self._failure()) is not None:
            return failure
        body = await bot_api_params(request)
        self.telegram.append(body)
        await self._record("sendMessage", {**body, "message_id": len(self.telegram)})
        sent = self._message(body["chat_id"], str(body["text"]), bot=True)
        return web.json_response({"ok": True, "result": {**sent, "message_id": len(self.telegram)}})

    async def _discord(self, request: web.Request) -> web.Response:
        if (failure := self._failure()) is not None:
            return failure
        body = await request.json()
        self.discord.append({"path": request.path, **body})
        return web.Response(status=204)


async def start_http(api: ChatApi) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(api.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
