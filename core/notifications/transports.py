"""Sending one message on one channel: email (SMTP), Telegram bot API, Discord webhook.

Each sender raises ``DeliveryFailed`` with a reason fit for the ``failure_reason`` column and
whether a retry can help. Reasons never contain the bot token, the webhook URL or SMTP
credentials (aiohttp errors can carry the URL, so they are described, not quoted).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiohttp
import aiosmtplib

from core.config import Settings

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What is sent: one notification, or a digest of several."""

    subject: str
    body: str

    def text(self) -> str:
        return f"{self.subject}\n\n{self.body}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send_email(settings: Settings, to: str, out: Outgoing) -> None:
    if not settings.smtp_host:
        raise DeliveryFailed(
            "Email is not configured: set smtp_host (BLOCKBOTX_SMTP_HOST).", permanent=True
        )
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = out.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="blockbotx")
    msg.set_content(out.body)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.notification_timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"The mail server refused {to}: {exc}", permanent=True) from None
    except aiosmtplib.SMTPAuthenticationError:
        raise DeliveryFailed(
            "The mail server rejected the SMTP credentials.", permanent=False
        ) from None
    except aiosmtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.code < 600
        raise DeliveryFailed(
            f"The mail server answered {exc.code}: {exc.message}", permanent=permanent
        ) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise DeliveryFailed(
            f"Mail server {settings.smtp_host}:{settings.smtp_port} unreachable ({type(exc).__name__}).",
            permanent=False,
        ) from None


async def _post_json(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], what: str
) -> tuple[int, Any]:
    try:
        async with http.post(url, json=body) as resp:
            try:
                data = await resp.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = None
            return resp.status, data
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise DeliveryFailed(
            f"{what} unreachable ({type(exc).__name__}).", permanent=False
        ) from None


def _http_failure(what: str, status: int, detail: str, retry_after: Any) -> DeliveryFailed:
    retry = float(retry_after) if isinstance(retry_after, int | float) else None
    temporary = status == 429 or status >= 500
    return DeliveryFailed(
        f"{what} answered HTTP {status}: {detail}".rstrip(": "),
        permanent=not temporary,
        retry_after=retry,
    )


async def send_telegram(
    settings: Settings, http: aiohttp.ClientSession, chat_id: str, out: Outgoing
) -> None:
    if settings.telegram_bot_token is None:
        raise DeliveryFailed(
            "Telegram is not configured: set telegram_bot_token (BLOCKBOTX_TELEGRAM_BOT_TOKEN).",
            permanent=True,
        )
    token = settings.telegram_bot_token.get_secret_value()
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
    body = {
        "chat_id": chat_id,
        "text": _clip(out.text(), TELEGRAM_LIMIT),
        "disable_web_page_preview": True,
    }
    status, data = await _post_json(http, url, body, "Telegram")
    if status == 200 and isinstance(data, dict) and data.get("ok"):
        return
    data = data if isinstance(data, dict) else {}
    params: dict[str, Any] = data["parameters"] if isinstance(data.get("parameters"), dict) else {}
    raise _http_failure(
        "Telegram", status, str(data.get("description", "")), params.get("retry_after")
    )


async def send_discord(http: aiohttp.ClientSession, webhook_url: str, out: Outgoing) -> None:
    body = {
        "username": "BlockbotX",
        "content": _clip(out.text(), DISCORD_LIMIT),
        # Message text is user data: never let it ping @everyone or roles.
        "allowed_mentions": {"parse": []},
    }
    status, data = await _post_json(http, webhook_url, body, "Discord")
    if status in (200, 204):
        return
    data = data if isinstance(data, dict) else {}
    raise _http_failure("Discord", status, str(data.get("message", "")), data.get("retry_after"))
