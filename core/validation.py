"""Pydantic's validation errors said in the user's words: one translation for every form, service
and the REST API.

``config.quote_amount: Input should be a valid decimal`` becomes ``Quote amount must be a
number.``; a row of a list is named by its place (``Levels, row 2: drop percent must be more than
0.``). The machine path (``config.quote_amount``, ``config.levels.1.drop_percent``) stays in
``InvalidInput.field`` so a form can mark the field and the API can name it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from core.errors import InvalidInput

_NUMBER = frozenset(
    {"decimal_parsing", "decimal_type", "float_parsing", "float_type", "finite_number"}
)
_WHOLE = frozenset({"int_parsing", "int_type", "int_from_float", "int_parsing_size"})
_SENTENCE = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}
_FIXED = {
    "missing": "is required",
    "extra_forbidden": "is an unknown setting (check the spelling)",
    "string_type": "must be text",
    "string_pattern_mismatch": "is not in the expected form",
    "bool_parsing": "must be yes or no",
    "bool_type": "must be yes or no",
    "list_type": "must be a list",
    "dict_type": "must be a group of settings",
    "model_type": "must be a group of settings",
    "model_attributes_type": "must be a group of settings",
    "json_invalid": "is not valid JSON",
    "url_parsing": "must be a web address like https://example.com",
    "url_type": "must be a web address like https://example.com",
    "url_scheme": "must be a web address like https://example.com",
    "datetime_parsing": "must be a date and time like 2026-01-31 12:00",
    "datetime_type": "must be a date and time like 2026-01-31 12:00",
    "date_parsing": "must be a date like 2026-01-31",
    "date_type": "must be a date like 2026-01-31",
    "timezone_aware": "must say its time zone",
    "uuid_parsing": "is not a valid identifier",
}


class NestedInvalid(ValueError):
    """An inner model's problems, already in words, raised from a validator of an outer model
    (a signal bot's installed strategy): said as they are, its field path kept."""

    def __init__(self, invalid: InvalidInput) -> None:
        super().__init__(str(invalid))
        self.field = invalid.field


def _nested(error: Mapping[str, Any]) -> NestedInvalid | None:
    inner = (error.get("ctx") or {}).get("error")
    return inner if isinstance(inner, NestedInvalid) else None


def label(key: str) -> str:
    """A setting's name as the forms show it: ``quote_amount`` → ``Quote amount``."""
    return key.replace("_", " ").strip().capitalize() or "Value"


def _items(n: Any) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def _bounded(kind: str, ctx: Mapping[str, Any]) -> str | None:
    bound = {
        "greater_than": ("must be more than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }.get(kind)
    return f"{bound[0]} {ctx.get(bound[1])}" if bound else None


def plain(error: Mapping[str, Any]) -> str:
    """What is wrong with one value, without its name: ``must be a number``."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    msg = str(error.get("msg", "is not valid"))
    if kind in _NUMBER:
        return "must be a number"
    if kind in _WHOLE:
        return "must be a whole number"
    if kind in _FIXED:
        return _FIXED[kind]
    if kind in _SENTENCE:
        return msg.removeprefix(_SENTENCE[kind])
    bounded = _bounded(kind, ctx)
    if bounded:
        return bounded
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        expected = str(ctx.get("expected") or ctx.get("expected_tags") or "a listed choice")
        return f"must be {expected.replace(chr(39), '')}"  # "must be buy or sell"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "can't be empty" if n == 1 else f"must be at least {n} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"needs at least {_items(ctx.get('min_length'))}"
    if kind == "too_long":
        return f"can have at most {_items(ctx.get('max_length'))}"
    if kind == "decimal_max_places":
        return f"can have at most {ctx.get('decimal_places')} decimal places"
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return "has too many digits"
    # anything else: pydantic's own words, without "Input" ("should be a valid IPv4 address")
    return msg.removeprefix("Input ").rstrip(".")


def sentence(loc: Sequence[str | int], error: Mapping[str, Any]) -> str:
    """One problem as a sentence naming its field: ``Quote amount must be a number.``,
    ``Levels, row 2: drop percent must be more than 0.``"""
    nested = _nested(error)
    if nested is not None:
        return str(nested)
    words = plain(error)
    names = [p for p in loc if isinstance(p, str)]
    rows = [p for p in loc if isinstance(p, int)]
    if not names and not rows:
        first = words.split(" ", 1)[0]
        text = words if "_" in first else words[:1].upper() + words[1:]
    elif rows:
        # the list's name, the row (1-based), then the row's field in lower case
        index = max(i for i, p in enumerate(loc) if isinstance(p, int))
        owner = [p for p in loc[:index] if isinstance(p, str)]
        inner = [p for p in loc[index + 1 :] if isinstance(p, str)]
        where = f"{label(owner[-1]) if owner else 'Row'}, row {int(loc[index]) + 1}"
        said = str(error.get("type")) in _SENTENCE
        if inner:
            field = label(inner[-1]).lower()
            text = f"{where}: {field}{': ' if said else ' '}{words}"
        else:
            text = f"{where}{': ' if said else ' '}{words}"
    elif str(error.get("type")) in _SENTENCE:
        # a sentence of its own names its fields; say which setting it is about (a union's
        # tag, like a strategy's name, may follow in the path)
        text = f"{label(names[0])}: {words}"
    else:
        text = f"{label(names[-1])} {words}"
    return text if text.endswith((".", "?", "!")) else f"{text}."


def describe(exc: ValidationError, prefix: str | None = None) -> InvalidInput:
    """Every problem of ``exc`` in words, one sentence each; ``field`` is the first one's path
    (``prefix.loc``), for the form to mark and the API to name."""
    parts: list[str] = []
    first: str | None = None
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        nested = _nested(error)
        inner = (nested.field,) if nested is not None and nested.field else ()
        path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + loc + inner) or None
        first = first or path
        said = sentence(loc, error)
        if said not in parts:
            parts.append(said)
    return InvalidInput(" ".join(parts) or "Not valid.", field=first)
