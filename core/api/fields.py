"""Request field types shared by the routers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

from core.errors import InvalidInput
from core.ledger.accounting import storable


def _storable_text(value: str, info: ValidationInfo) -> str:
    """A number the ledger can't hold exactly (``1e999999``) is refused here, before any
    service does arithmetic on it; text that is no number at all is left to the service, whose
    message ("Quantity 'lots' is not a number.") is the one the dashboard shows."""
    try:
        number = Decimal(value.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return value
    try:
        storable(number, info.field_name or "amount")
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None
    return value


Amount = Annotated[
    str,
    Field(max_length=80, description="A decimal, as a string."),
    AfterValidator(_storable_text),
]
