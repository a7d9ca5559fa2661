"""TradingView alerts: the body TradingView posts, its ticker mapped to a pair, the template.

TradingView can't add headers or sign a request, so the provider's secret is a token in the URL
path (``/tv/<provider id>/<token>``), or the ``passphrase`` field of the body posted to
``/tv/<provider id>``. The body is JSON sent as ``text/plain``::

    {"ticker": "BINANCE:BTCUSDT", "action": "buy", "price": 65000.5,
     "time": "2026-01-05T12:00:00Z", "confidence": 80}

``ticker`` may be ``BTCUSDT``, ``BINANCE:BTCUSDT`` or ``BTC/USDT``; ``action`` is buy or sell in
any case; ``price``, ``time`` (ISO-8601 or unix seconds) and ``confidence`` (0–100) are
optional; any other field (``interval``, ``volume``, ...) is ignored, so a richer alert message
still works. Numbers are read exactly (as ``Decimal``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.trading import Exchange, TradingPair
from core.market.simulated import DEFAULT_SYMBOLS
from core.signals.payload import (
    Confidence,
    Money,
    PayloadError,
    SignalPayload,
    validate_signal,
)
from core.strategies.config import normalize_symbol
from core.validation import plain

TOKEN_PREFIX = "bbxtv_"
MAX_TICKER = 64
_TICKER = re.compile(r"^(?:([A-Z0-9_.]{1,32}):)?([A-Z0-9]{2,40})$")

MESSAGE_TEMPLATE = (
    '{"ticker": "{{ticker}}", "action": "{{strategy.order.action}}", '
    '"price": {{close}}, "time": "{{timenow}}"}'
)
"""What to paste into the alert's Message box (a strategy alert; for an indicator alert write
``"action": "buy"`` or ``"sell"`` instead of the placeholder)."""


def generate_token() -> str:
    """A new alert token: ``bbxtv_`` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_matches(expected: str | None, presented: str | None) -> bool:
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def body_digest(body: bytes) -> str:
    """The replay-cache key of an alert: the same body twice within the window is a replay."""
    return "body:" + hashlib.sha256(body).hexdigest()


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Alert(BaseModel):
    """The fields of an alert we read; any other field is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    ticker: Annotated[str, BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)]
    action: Annotated[Literal["buy", "sell"], BeforeValidator(_lower)]
    price: Money | None = None
    time: AwareDatetime | None = None
    confidence: Confidence | None = None
    passphrase: str | None = None


def passphrase_of(document: Any) -> str | None:
    """The ``passphrase`` of a decoded body, if it has a text one (read before validation)."""
    if isinstance(document, dict) and isinstance(document.get("passphrase"), str):
        return str(document["passphrase"])
    return None


def read_alert(document: Any) -> Alert:
    """A decoded body as an ``Alert``, or ``PayloadError`` naming every bad field."""
    if not isinstance(document, dict):
        raise PayloadError("invalid_signal", "The body must be a JSON object.")
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": _message(err)}
            for err in exc.errors(include_url=False)
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise PayloadError("invalid_signal", summary, fields=fields) from None


def _message(err: Any) -> str:
    return plain(err)  # the one translation of pydantic's words


async def resolve_ticker(session: AsyncSession, ticker: str) -> str:
    """The pair a TradingView ticker names: ``BTC/USDT`` as it is, ``[EXCHANGE:]BTCUSDT`` by the
    pair catalog (``trading_pairs``, that exchange's pairs first), then by the simulated market's
    pairs. An unknown or ambiguous ticker is a ``PayloadError``."""
    text = ticker.strip().upper()
    if len(text) > MAX_TICKER:
        raise PayloadError("invalid_signal", "ticker: longer than 64 characters")
    exchange, _, name = text.rpartition(":")
    if "/" in name:
        try:
            return normalize_symbol(name)
        except ValueError as exc:
            raise PayloadError("invalid_signal", f"ticker: {exc}") from None
    if not _TICKER.match(text):
        raise PayloadError(
            "invalid_signal", f"ticker: {ticker[:64]!r} is not like BTCUSDT or BINANCE:BTCUSDT"
        )
    rows = (
        await session.execute(
            select(TradingPair.symbol, Exchange.name)
            .join(Exchange, Exchange.id == TradingPair.exchange_id)
            .where(
                func.upper(TradingPair.base + TradingPair.quote) == name,
                TradingPair.active.is_(True),
            )
        )
    ).all()
    on_exchange = {s for s, ex in rows if exchange and ex.upper() == exchange}
    found = on_exchange or {s for s, _ in rows}
    if not found:
        found = {s.symbol for s in DEFAULT_SYMBOLS if s.symbol.replace("/", "") == name}
    if len(found) > 1:
        raise PayloadError(
            "invalid_signal",
            f"ticker: {name} could be {' or '.join(sorted(found))}; send the pair as BASE/QUOTE",
        )
    if not found:
        raise PayloadError(
            "invalid_signal",
            f"ticker: no known pair is {name}; send the pair as BASE/QUOTE (e.g. BTC/USDT)",
        )
    return found.pop()


async def to_signal(session: AsyncSession, alert: Alert) -> SignalPayload:
    """The signal an alert stands for, in the shape every source stores."""
    symbol = await resolve_ticker(session, alert.ticker)
    document: dict[str, Any] = {
        "symbol": symbol,
        "action": alert.action,
        "reason": f"TradingView alert ({alert.ticker} {alert.action})",
        "metadata": {"source": "tradingview", "ticker": alert.ticker},
    }
    for name, value in (
        ("price", alert.price),
        ("confidence", alert.confidence),
        ("timestamp", alert.time),
    ):
        if value is not None:
            document[name] = value
    return validate_signal(document)
