"""Form fields generated from a pydantic config model (a bot type's settings, risk settings).

Each model field becomes one form field with its default and its own description as help:
yes/no → a switch, a fixed set of words (Literal, Enum) → a choice, a list of words → a
comma-separated line, nested rules and lists of them → a line of JSON, anything else → text.
Reading the form back gives the values as the user wrote them (strings, lists, parsed JSON):
the service validates them with the same model, so what is wrong is said once, by the model.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

Kind = Literal["text", "bool", "choice", "words", "json"]


@dataclass(frozen=True, slots=True)
class ConfigField:
    key: str
    label: str
    kind: Kind
    help: str
    default: Any
    """The default in the form's own terms (text, bool, choice value, JSON text); None: empty."""
    choices: tuple[str, ...] = ()
    required: bool = False


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type without Optional/Annotated, whether None is allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional  # a real union: several shapes
            annotation = args[0]
        else:
            return annotation, optional


def _words(annotation: Any) -> tuple[str, ...] | None:
    """The fixed words of a Literal or an Enum, else None."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(m.value) for m in annotation)
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=False)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def kind_of(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    inner, _ = _unwrap(annotation)
    if inner is bool:
        return "bool", ()
    words = _words(inner)
    if words is not None:
        return "choice", words
    if typing.get_origin(inner) in (list, tuple):
        (item,) = typing.get_args(inner)[:1] or (Any,)
        item, _ = _unwrap(item)
        if item is str or _words(item) is not None:
            return "words", ()
        return "json", ()
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return "json", ()
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return "json", ()
    return "text", ()


def as_form_value(kind: Kind, value: Any) -> Any:
    """A stored setting as the form shows it."""
    value = _plain(value)
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "words":
        return ", ".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def fields_for(model: type[BaseModel]) -> list[ConfigField]:
    out = []
    for key, info in model.model_fields.items():
        kind, choices = kind_of(info.annotation)
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        else:
            default = None if info.default is PydanticUndefined else info.default
        out.append(
            ConfigField(
                key=key,
                label=key.replace("_", " ").capitalize(),
                kind=kind,
                help=info.description or "",
                default=as_form_value(kind, default),
                choices=choices,
                required=info.is_required(),
            )
        )
    return out


class FormValueError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def read_value(field: ConfigField, raw: Any) -> Any:
    """What the user entered, as a value for the model (``...`` when left empty: the default
    applies)."""
    if field.kind == "bool":
        return bool(raw)
    if field.kind == "choice":
        return ... if raw in (None, "") else raw
    text = "" if raw is None else str(raw).strip()
    if not text:
        return ...
    if field.kind == "words":
        return [w.strip() for w in text.split(",") if w.strip()]
    if field.kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormValueError(field.key, f"{field.label}: not valid JSON ({exc.msg})") from None
    return text


def read(fields: list[ConfigField], raw: dict[str, Any]) -> dict[str, Any]:
    """The settings to send: every field the user filled (empty ones take the model's default)."""
    out = {}
    for field in fields:
        value = read_value(field, raw.get(field.key))
        if value is not ...:
            out[field.key] = value
    return out
