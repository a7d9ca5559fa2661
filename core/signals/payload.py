"""The signal body shared by every source, decoded exactly.

JSON numbers are read as ``Decimal`` (never through float), so ``"price": 65000.1`` is stored as
exactly 65000.1. Text that PostgreSQL can't hold (NUL characters, lone surrogates) and
non-finite numbers are refused here, so a bad body is a clear 4xx and never a database error.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from core.strategies.config import Symbol
from core.validation import plain

MAX_BODY_BYTES = 64 * 1024
MAX_REASON = 1000
MAX_METADATA_DEPTH = 8
MAX_EXPONENT = 300
"""Metadata numbers stay within 1e±300: JSON-safe as a float, and no giant integers."""


class PayloadError(Exception):
    """A body that is not a valid signal. ``code`` is the stable error code of the JSON answer."""

    def __init__(
        self, code: str, message: str, *, fields: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


Money = Annotated[Decimal, Field(gt=0, max_digits=65, decimal_places=30)]
"""A positive amount that fits NUMERIC(65, 30) without rounding."""
Confidence = Annotated[Decimal, Field(ge=0, le=100, decimal_places=30)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
"""The provider's own id for a signal: printable ASCII without spaces."""


class SignalPayload(BaseModel):
    """One signal. Unknown keys are refused so a misspelt ``stoploss`` is not silently lost."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: ExternalId | None = None
    symbol: Symbol
    action: Annotated[Literal["BUY", "SELL", "HOLD"], BeforeValidator(_upper)]
    price: Money | None = None
    stop_loss: Money | None = None
    take_profit: Money | None = None
    confidence: Confidence | None = None
    reason: Annotated[str, StringConstraints(max_length=MAX_REASON)] | None = None
    metadata: dict[str, Any] | None = None
    timestamp: AwareDatetime | None = None
    """When the provider issued the signal (unix seconds or ISO-8601 with a zone)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def decode_json(body: bytes) -> Any:
    """The JSON document in ``body`` with every non-integer number as an exact Decimal."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("invalid_json", "The body is not UTF-8 text.") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "nesting too deep"
        raise PayloadError("invalid_json", f"The body is not valid JSON: {detail}.") from None


def _checked_text(text: str, where: str) -> str:
    if "\x00" in text:
        raise PayloadError("invalid_signal", f"{where}: text can't contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError("invalid_signal", f"{where}: text is not valid Unicode.") from None
    return text


def _json_safe(value: Any, where: str, depth: int = 0) -> Any:
    """Metadata as plain JSON for a JSONB column (Decimals back to JSON numbers)."""
    if depth > MAX_METADATA_DEPTH:
        raise PayloadError(
            "invalid_signal", f"{where}: nested more than {MAX_METADATA_DEPTH} deep."
        )
    if isinstance(value, str):
        return _checked_text(value, where)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
        if number.is_zero():
            return 0
        if not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
            raise PayloadError("invalid_signal", f"{where}: number out of range.")
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(value, dict):
        return {
            _checked_text(k, where): _json_safe(v, f"{where}.{k}", depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_json_safe(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    return value  # int, bool, None


def validate_signal(document: Any, *, where: str = "") -> SignalPayload:
    """A decoded JSON object as a ``SignalPayload``; ``where`` prefixes field names (list items)."""
    if not isinstance(document, dict):
        raise PayloadError("invalid_signal", f"{where or 'The body'} must be a JSON object.")
    clean = {
        key: (_json_safe(value, f"{where}{key}") if key == "metadata" else value)
        for key, value in document.items()
    }
    for key in ("id", "symbol", "action", "reason"):
        if isinstance(clean.get(key), str):
            _checked_text(clean[key], f"{where}{key}")
    try:
        return SignalPayload.model_validate(clean)
    except ValidationError as exc:
        fields = [
            {
                "field": where + ".".join(str(p) for p in err["loc"]),
                "message": _message(err),
            }
            for err in exc.errors(include_url=False)
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise PayloadError("invalid_signal", summary, fields=fields) from None


def _message(err: Any) -> str:
    return plain(err)  # the one translation of pydantic's words


def parse_signal(body: bytes) -> SignalPayload:
    """A request body as one signal, or ``PayloadError``."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError("body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return validate_signal(decode_json(body))


def issued_at(payload: SignalPayload, received: datetime) -> datetime:
    """The signal's time: the provider's timestamp when given, but never later than arrival."""
    if payload.timestamp is None:
        return received
    return min(payload.timestamp, received)
