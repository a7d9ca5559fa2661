"""Validating service input with a pydantic model; what is wrong is said in the user's words
(:mod:`core.validation`)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.validation import describe

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: M | dict[str, Any]) -> M:
    """Validate ``data`` as ``model``; the first problem becomes the error message."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data if isinstance(data, dict) else dict(data))
    except ValidationError as exc:
        raise describe(exc) from None
