"""Fields from a strategy's declared parameters: one input per parameter (its type, default,
range and help), read back as typed values, each checked against its range with a message
naming the parameter (``Param.parse``).

Two renderings of the same description: ``StrategyParams``, a grid of inputs a screen embeds
(the Backtests screen), and ``form_fields`` / ``read_form`` for a ``FormModal`` (the
marketplace's deploy dialog). The bot form (``tui.screens.bot_form``) builds its strategy rows
from the same parameters through the strategy's pydantic model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.events import DescendantFocus
from textual.widgets import Input, Label, Select, Static

from core.errors import InvalidInput
from core.strategies.api import Param
from core.strategies.catalog import get
from tui.modals.form import Field
from tui.widgets.choice import Choice


def help_line(key: str, param: Param) -> str:
    """``fast: Period of the fast moving average, in candles. A whole number from 2 to 1000;
    default 10.``"""
    text = param.help.strip() or key.replace("_", " ").capitalize() + "."
    describe = param.describe()
    return f"{key}: {text} {describe[0].upper()}{describe[1:]}; default {_shown(param.default)}."


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def declared(name: str) -> dict[str, Param]:
    """The parameters ``name`` declares (InvalidInput if no such strategy is installed)."""
    return dict(get(name).params)


def read(params: Mapping[str, Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values of the fields filled in (blank: the default); InvalidInput with the field
    ``param-<key>`` and a message naming the parameter and its range."""
    out: dict[str, Any] = {}
    for key, param in params.items():
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            out[key] = param.parse(key, value)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=f"param-{key}") from None
    return out


# -- in a FormModal (the marketplace's deploy dialog) --------------------------------------------

PREFIX = "param_"


def form_fields(name: str, stored: Mapping[str, Any]) -> list[Field]:
    """One ``FormModal`` field per parameter of ``name``, prefilled with ``stored`` values."""
    out = []
    for key, param in declared(name).items():
        value = stored.get(key, param.default)
        label = key.replace("_", " ").capitalize()
        if param.type is bool:
            out.append(Field(PREFIX + key, label, "check", bool(value), help=help_line(key, param)))
        elif param.choices:
            options = [(c, c) for c in param.choices]
            out.append(Field(PREFIX + key, label, "select", str(value), options,
                             help=help_line(key, param)))  # fmt: skip
        else:
            out.append(Field(PREFIX + key, label, value=_shown(value),
                             placeholder=f"default: {_shown(param.default)}",
                             help=help_line(key, param)))  # fmt: skip
    return out


def read_form(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The typed parameters from a FormModal's values (InvalidInput names the field)."""
    raw = {k.removeprefix(PREFIX): v for k, v in values.items() if k.startswith(PREFIX)}
    try:
        return read(declared(name), raw)
    except InvalidInput as exc:
        field = PREFIX + (exc.field or "").removeprefix("param-")
        raise InvalidInput(str(exc), field=field) from None


# -- in a screen (the Backtests screen) ------------------------------------------------------------


class StrategyParams(Vertical):
    """A grid of one input per declared parameter and, under it, the focused one's help."""

    DEFAULT_CSS = """
    StrategyParams { height: auto; display: none; padding: 1 1 0 1; }
    StrategyParams.-shown { display: block; }
    StrategyParams > Grid {
        grid-size: 4; grid-columns: 12 1fr 12 1fr; grid-gutter: 0 1; grid-rows: 1; height: auto;
    }
    StrategyParams.-narrow > Grid { grid-size: 2; grid-columns: 12 1fr; }
    StrategyParams Input.-invalid { border: none; color: $error; }
    StrategyParams > .param-help { color: $text-muted; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.params: dict[str, Param] = {}
        self.name_shown: str | None = None
        self.error: tuple[str, str] | None = None  # (key, message) of the field marked bad

    def compose(self) -> ComposeResult:
        yield Grid(classes="param-grid")
        yield Static("", classes="param-help", markup=False)

    async def show(self, name: str | None, stored: Mapping[str, Any] | None = None) -> None:
        """The fields of strategy ``name`` (None: none), prefilled with ``stored`` values."""
        self.name_shown = name
        self.params = declared(name) if name else {}
        self.set_class(name is not None, "-shown")
        grid = self.query_one(".param-grid", Grid)
        await grid.remove_children()
        stored = stored or {}
        rows: list[Any] = []
        for key, param in self.params.items():
            rows.append(Label(key, classes="param-label"))
            value = stored.get(key)
            if param.choices or param.type is bool:
                words = param.choices or ("yes", "no")
                rows.append(
                    Choice[str](
                        ((w, w) for w in words),
                        prompt=f"default: {_shown(param.default)}",
                        value=_shown(value) if value is not None else Select.NULL,
                        id=f"param-{key}",
                        compact=True,
                    )
                )
            else:
                rows.append(
                    Input(
                        "" if value is None else _shown(value),
                        placeholder=f"default: {_shown(param.default)}",
                        id=f"param-{key}",
                        compact=True,
                    )
                )
            rows[-1].tooltip = help_line(key, param)
        await grid.mount_all(rows)
        help_text = "" if name is None else f"{name}: the defaults are used where left blank."
        if name is not None and not self.params:
            help_text = f"{name} declares no parameters."
        self.query_one(".param-help", Static).update(help_text)

    def raw(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.params:
            widget = self.query_one(f"#param-{key}")
            if isinstance(widget, Select):
                out[key] = None if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                out[key] = widget.value
        return out

    def values(self) -> dict[str, Any]:
        """The typed values filled in; InvalidInput (field ``param-<key>``) marks and focuses
        the first bad one."""
        for widget in self.query(".param-grid > *").results():
            widget.remove_class("-invalid")
        self.error = None
        try:
            return read(self.params, self.raw())
        except InvalidInput as exc:
            key = (exc.field or "").removeprefix("param-")
            self.error = (key, str(exc))
            bad = self.query_one(f"#{exc.field}")
            bad.add_class("-invalid")
            self.query_one(".param-help", Static).update(str(exc))
            bad.focus()
            raise

    @on(DescendantFocus)
    def _focused(self, event: DescendantFocus) -> None:
        key = (event.widget.id or "").removeprefix("param-")
        if key not in self.params:
            return
        if self.error is not None and self.error[0] == key:
            text = self.error[1]
        else:
            text = help_line(key, self.params[key])
        self.query_one(".param-help", Static).update(text)
