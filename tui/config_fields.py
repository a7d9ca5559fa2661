"""Form fields generated from a pydantic config model (a bot type's settings, risk settings).

Each model field becomes one form field with its default and its own description as help:
yes/no → a switch, a fixed set of words (Literal, Enum) → a choice, a list of words → a
comma-separated line, a list of flat rules (DCA levels, take-profit levels) → rows of fields
(added and removed one by one, each row checked with its own model), other nested rules → a
line of JSON, anything else → text.
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

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from core.validation import sentence

Kind = Literal["text", "bool", "choice", "words", "json", "rows"]


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
    columns: tuple[ConfigField, ...] = ()
    """A ``rows`` field's fields, one per column of a row."""
    item: type[BaseModel] | None = None
    """A ``rows`` field's model of one row."""


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


def row_model(annotation: Any) -> type[BaseModel] | None:
    """The model of one row when ``annotation`` is a list of flat rules (every field text, a
    switch or a choice), else None."""
    inner, _ = _unwrap(annotation)
    if typing.get_origin(inner) is not list:
        return None
    (item,) = typing.get_args(inner)[:1] or (Any,)
    item, _ = _unwrap(item)
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return None
    flat = all(kind_of(f.annotation)[0] in ("text", "bool", "choice")
               for f in item.model_fields.values())  # fmt: skip
    return item if flat else None


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
    if kind == "rows":
        return [{k: "" if v is None else str(_plain(v)) for k, v in row.items()} for row in value]
    return str(value)


def fields_for(model: type[BaseModel]) -> list[ConfigField]:
    out = []
    for key, info in model.model_fields.items():
        kind, choices = kind_of(info.annotation)
        item = row_model(info.annotation)
        if item is not None:
            kind = "rows"
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
                columns=tuple(fields_for(item)) if item is not None else (),
                item=item,
            )
        )
    return out


class FormValueError(ValueError):
    def __init__(
        self, key: str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.key, self.row, self.column = key, row, column


def read_rows(field: ConfigField, raw: Any) -> list[dict[str, Any]]:
    """A ``rows`` field's rows as entered (rows left wholly empty dropped), each checked with
    the row's model so a mistake is named by its row and column."""
    out: list[dict[str, Any]] = []
    for cells in raw or []:
        row = {}
        for column in field.columns:
            value = read_value(column, cells.get(column.key))
            if value is not ...:
                row[column.key] = value
        if not row:
            continue
        if field.item is not None:
            try:
                field.item.model_validate(row)
            except ValidationError as exc:
                error = exc.errors(include_url=False)[0]
                loc = (field.key, len(out), *error["loc"])
                bad = next((str(p) for p in error["loc"] if isinstance(p, str)), None)
                raise FormValueError(
                    field.key, sentence(loc, error), row=len(out), column=bad
                ) from None
        out.append(row)
    return out


def read_value(field: ConfigField, raw: Any) -> Any:
    """What the user entered, as a value for the model (``...`` when left empty: the default
    applies)."""
    if field.kind == "bool":
        return bool(raw)
    if field.kind == "choice":
        return ... if raw in (None, "") else raw
    if field.kind == "rows":
        return read_rows(field, raw)
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
