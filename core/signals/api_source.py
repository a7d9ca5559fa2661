"""What an ``api`` provider is polled for: a GET of its URL returning a JSON list of signals.

The answer is a JSON array of signal objects, or an object ``{"signals": [...]}``. Every item
needs the provider's ``id`` for it (that is how a signal seen on an earlier poll is stored once)
and otherwise follows the webhook payload schema. A bad item is skipped and reported; it does not
spoil the rest of the answer. The key goes in ``<auth_header>: <auth_scheme> <key>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from core.signals.config import ApiConfig
from core.signals.ingest import Source
from core.signals.payload import PayloadError, SignalPayload, decode_json, validate_signal

MAX_ANSWER_BYTES = 1024 * 1024
MAX_ITEMS = 1000


class SourceError(Exception):
    """A poll that failed as a whole (unreachable, an error status, not JSON); retried later.

    Messages never carry the key or a URL with a token in it.
    """


@dataclass(frozen=True, slots=True)
class Polled:
    signals: list[tuple[str, SignalPayload]]
    """(the provider's id for the signal, the signal), in the order the answer gave them."""
    rejected: list[str]
    """Why each skipped item was skipped."""


def auth_headers(config: ApiConfig, key: str | None) -> dict[str, str]:
    if not key:
        return {}
    value = f"{config.auth_scheme} {key}" if config.auth_scheme else key
    return {config.auth_header: value}


async def read_json(response: aiohttp.ClientResponse, what: str) -> object:
    if response.status != 200:
        raise SourceError(f"{what} answered HTTP {response.status}")
    body = await response.content.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise SourceError(f"{what} answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        return decode_json(body)
    except PayloadError as exc:
        raise SourceError(f"{what} answered something else than JSON: {exc.message}") from None


def parse_answer(document: object) -> Polled:
    if isinstance(document, dict) and set(document) == {"signals"}:
        document = document["signals"]
    if not isinstance(document, list):
        raise SourceError('the answer must be a JSON list of signals (or {"signals": [...]})')
    signals: list[tuple[str, SignalPayload]] = []
    rejected: list[str] = []
    for index, item in enumerate(document[:MAX_ITEMS]):
        where = f"signals[{index}]."
        try:
            payload = validate_signal(item, where=where)
        except PayloadError as exc:
            rejected.append(exc.message)
            continue
        if payload.id is None:
            rejected.append(f"{where}id: is required (the provider's id for the signal)")
            continue
        signals.append((payload.id, payload))
    if len(document) > MAX_ITEMS:
        rejected.append(f"only the first {MAX_ITEMS} signals of an answer are read")
    return Polled(signals, rejected)


async def fetch(http: aiohttp.ClientSession, source: Source, config: ApiConfig) -> Polled:
    if not source.url:
        raise SourceError("the provider has no URL")
    try:
        async with http.get(
            source.url,
            headers={"Accept": "application/json", **auth_headers(config, source.key)},
            timeout=aiohttp.ClientTimeout(total=config.timeout_seconds),
            allow_redirects=False,
        ) as response:
            document = await read_json(response, "the provider")
    except TimeoutError:
        raise SourceError(f"no answer within {config.timeout_seconds:g} s") from None
    except aiohttp.ClientError as exc:
        raise SourceError(f"request failed: {type(exc).__name__}") from None
    return parse_answer(document)
