"""Real local servers standing in for the mail server, Telegram's bot API and Discord."""

from __future__ import annotations

import asyncio
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


@dataclass
class ChatApi:
    """Telegram ``/bot<token>/sendMessage`` and Discord ``/api/webhooks/<id>/<token>``.

    ``fail_next`` makes the next requests answer with that status (a channel that is down).
    """

    token: str = "123456:TEST-TOKEN"
    telegram: list[dict[str, Any]] = field(default_factory=list)
    discord: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    bad_token_hits: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._telegram)
        app.router.add_post("/api/webhooks/{hook}/{secret}", self._discord)
        return app

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
        body = await request.json()
        self.telegram.append(body)
        return web.json_response({"ok": True, "result": {"message_id": len(self.telegram)}})

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
