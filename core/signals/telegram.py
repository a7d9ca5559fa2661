"""What a ``telegram`` provider is polled for: signal messages a Telegram bot receives.

The bot's token is the provider's key. Updates come from the Bot API's ``getUpdates`` (the base
URL is configurable, so tests use a local server); only messages and channel posts from the
configured ``chat_ids`` count. A message is a signal when its first word is an action::

    BUY BTC/USDT price=65000.5 sl=64000 tp=68000 confidence=80
    Breakout above the range (any further lines are the reason)

Keys (any order, all optional, case-insensitive): ``price``, ``sl`` / ``stop_loss``, ``tp`` /
``take_profit``, ``confidence`` / ``conf``. Numbers are read exactly. Other messages (chat) are
ignored; a message that starts with an action but is malformed is skipped and reported. The
signal's id is ``tg:<chat id>:<message id>`` and its time the message's date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from core.signals.api_source import SourceError, read_json
from core.signals.config import TelegramConfig
from core.signals.ingest import Source
from core.signals.payload import PayloadError, SignalPayload, validate_signal

ACTIONS = ("BUY", "SELL", "HOLD")
_KEYS = {
    "price": "price",
    "sl": "stop_loss",
    "stop_loss": "stop_loss",
    "tp": "take_profit",
    "take_profit": "take_profit",
    "confidence": "confidence",
    "conf": "confidence",
}


def parse_message(text: str, *, timestamp: int | None = None) -> SignalPayload | None:
    """The signal a message holds, None for an ordinary message, or ``PayloadError``."""
    lines = text.strip().splitlines()
    words = lines[0].split() if lines else []
    if not words or words[0].upper() not in ACTIONS:
        return None
    if len(words) < 2:
        raise PayloadError("invalid_signal", "symbol: is required after the action")
    document: dict[str, object] = {"action": words[0], "symbol": words[1]}
    for word in words[2:]:
        name, sep, value = word.partition("=")
        field = _KEYS.get(name.lower())
        if not sep or field is None:
            raise PayloadError(
                "invalid_signal",
                f"{word!r} is not one of price=, sl=, tp=, confidence= followed by a number",
            )
        if field in document:
            raise PayloadError("invalid_signal", f"{field}: given twice")
        document[field] = value
    reason = "\n".join(lines[1:]).strip()
    if reason:
        document["reason"] = reason
    if timestamp is not None:
        document["timestamp"] = timestamp
    return validate_signal(document)


@dataclass(frozen=True, slots=True)
class Updates:
    signals: list[tuple[str, SignalPayload]]
    rejected: list[str]
    next_offset: int | None
    """Pass back as ``offset`` next time: it confirms every update read so far to Telegram."""


def read_updates(document: object, config: TelegramConfig) -> Updates:
    if not isinstance(document, dict) or document.get("ok") is not True:
        raise SourceError("the Bot API refused getUpdates")
    results = document.get("result")
    if not isinstance(results, list):
        raise SourceError("the Bot API answered without a result list")
    chats = set(config.chat_ids)
    signals: list[tuple[str, SignalPayload]] = []
    rejected: list[str] = []
    last: int | None = None
    for update in results:
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            continue
        last = update["update_id"] if last is None else max(last, update["update_id"])
        message = update.get("message") or update.get("channel_post")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            continue
        chat: dict[str, Any] = message["chat"] if isinstance(message.get("chat"), dict) else {}
        if chat.get("id") not in chats:
            continue
        ref = f"tg:{chat['id']}:{message.get('message_id')}"
        try:
            date = message.get("date")
            payload = parse_message(
                message["text"], timestamp=date if isinstance(date, int) else None
            )
        except PayloadError as exc:
            rejected.append(f"message {ref}: {exc.message}")
            continue
        if payload is not None:
            signals.append((ref, payload))
    return Updates(signals, rejected, None if last is None else last + 1)


async def fetch(
    http: aiohttp.ClientSession,
    source: Source,
    config: TelegramConfig,
    *,
    base_url: str,
    offset: int | None,
) -> Updates:
    if not source.key:
        raise SourceError("the provider has no bot token")
    params = {"timeout": "0", "allowed_updates": json.dumps(["message", "channel_post"])}
    if offset is not None:
        params["offset"] = str(offset)
    base = str(config.api_url or base_url).rstrip("/")
    try:
        async with http.get(
            f"{base}/bot{source.key}/getUpdates",
            params=params,
            timeout=aiohttp.ClientTimeout(total=config.timeout_seconds),
            allow_redirects=False,
        ) as response:
            document = await read_json(response, "the Bot API")
    except TimeoutError:
        raise SourceError(f"no answer within {config.timeout_seconds:g} s") from None
    except aiohttp.ClientError as exc:
        # The URL holds the bot token: name the error, never quote it.
        raise SourceError(f"request failed: {type(exc).__name__}") from None
    return read_updates(document, config)
