"""Turning pydantic validation errors into one clear ``InvalidInput``."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: M | dict[str, Any]) -> M:
    """Validate ``data`` as ``model``; the first problem becomes the error message."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data if isinstance(data, dict) else dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a setting that can be changed"
        raise InvalidInput(f"{field}: {msg}" if field else msg, field=field) from None
