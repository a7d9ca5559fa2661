"""The strategy API (version 1.1): what a strategy written for BlockbotX looks like.

A strategy is a class: it declares its parameters (``params``), how many candles it needs
before its signals mean something (``warmup``), and computes entry and exit signals over whole
numpy candle arrays at once (``signals``). It may add two per-bar hooks (version 1.1):
``custom_exit`` (leave the open position at a candle's close) and ``position_size`` (how much
to spend on an entry). The same class runs in backtests, paper bots and live bots: the engine
calls it on a window of recent candles and acts on the last bar, the backtester calls
``signals`` once on the whole history and the hooks candle by candle. docs/strategies.md is the
user's guide; the five built-in signals (``core.strategies.technical``) are written on this API.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationError, create_model, model_validator

from core.strategies.candles import Candles
from core.strategies.config import ConfigModel

API_VERSION = 1
"""Raised only when a strategy written for this version could stop working."""
API_MINOR = 1
"""Raised when the API gains something old strategies need not know about (1.1: the per-bar
hooks ``custom_exit`` and ``position_size``)."""

NAME = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
ParamType = type[int] | type[float] | type[bool] | type[str]


@dataclass(frozen=True, slots=True)
class Param:
    """One tunable setting: its type (int, float, bool or str), default, allowed range
    (``min``/``max`` inclusive, ``above``/``below`` exclusive) or fixed ``choices``, and a line
    of help."""

    type: ParamType
    default: Any
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def describe(self) -> str:
        """What a value must be, in words: "a whole number from 2 to 1000"."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        kind = {int: "a whole number", float: "a number", bool: "yes or no", str: "text"}[self.type]
        bounds = []
        if self.min is not None and self.max is not None:
            bounds.append(f"from {self.min:g} to {self.max:g}")
        else:
            if self.min is not None:
                bounds.append(f"at least {self.min:g}")
            if self.above is not None:
                bounds.append(f"more than {self.above:g}")
            if self.max is not None:
                bounds.append(f"at most {self.max:g}")
            if self.below is not None:
                bounds.append(f"less than {self.below:g}")
        if self.min is not None and self.max is not None:
            bounds += [f"more than {self.above:g}"] if self.above is not None else []
            bounds += [f"less than {self.below:g}"] if self.below is not None else []
        return " ".join([kind, " and ".join(bounds)]).strip()

    def parse(self, key: str, raw: str | bool) -> Any:
        """A value typed into a field (text, or a switch's bool) as this parameter's type,
        within its range; ValueError naming ``key`` and what it must be otherwise."""
        wrong = ValueError(f"{key} must be {self.describe()}; {raw!r} is not.")
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            word = raw.strip().lower()
            if word in ("yes", "true", "1", "on"):
                return True
            if word in ("no", "false", "0", "off"):
                return False
            raise wrong
        text = str(raw).strip()
        value: Any
        try:
            value = (
                int(text.replace("_", ""))
                if self.type is int
                else float(text)
                if self.type is float
                else text
            )
        except ValueError:
            raise wrong from None
        if isinstance(value, float) and not math.isfinite(value):
            raise wrong
        if self.choices and value not in self.choices:
            raise wrong
        if isinstance(value, int | float) and not (
            (self.min is None or value >= self.min)
            and (self.max is None or value <= self.max)
            and (self.above is None or value > self.above)
            and (self.below is None or value < self.below)
        ):
            raise ValueError(f"{key} must be {self.describe()}; {value:g} is not.")
        return value

    def field(self) -> tuple[Any, Any]:
        """The pydantic field (annotation, FieldInfo) this parameter validates with."""
        annotation: Any = self.type
        if self.choices:
            annotation = Literal[tuple(self.choices)]
        return annotation, Field(
            default=self.default,
            ge=self.min,
            le=self.max,
            gt=self.above,
            lt=self.below,
            description=self.help or None,
        )


@dataclass(frozen=True, slots=True, eq=False)
class Signals:
    """What ``signals`` returns: for every candle, whether to enter and whether to exit.

    ``entry`` and ``exit`` are bool arrays as long as the candles (an exit wins where both are
    set). ``confidence`` (0–100 floats, optional) scores each signal; without it every signal
    counts as 100. ``indicators`` are named arrays recorded with each live decision, and
    ``explain(i)`` is the readable reason at candle ``i`` (optional).
    """

    entry: np.ndarray
    exit: np.ndarray
    confidence: np.ndarray | None = None
    indicators: Mapping[str, np.ndarray] = field(default_factory=dict)
    explain: Callable[[int], str] | None = None


@dataclass(frozen=True, slots=True)
class OpenTrade:
    """The open position, as ``custom_exit`` sees it at a candle's close.

    ``entry_price`` is the average fill price, ``entry_ms`` when it filled (epoch ms),
    ``quantity`` what is held, and ``bars`` the candles that have closed since the fill: 1 at the
    close of the candle the entry filled in, 2 at the next close, and so on.
    """

    entry_price: float
    entry_ms: int
    quantity: float
    bars: int

    @classmethod
    def at(
        cls, entry_price: Decimal, entry_ms: int, quantity: Decimal, candle_ms: int, tf_ms: int
    ) -> OpenTrade:
        """The trade at the close of the candle opening at ``candle_ms`` (the one computation
        of ``bars`` the backtester and the engine share)."""
        bars = max(0, -((entry_ms - candle_ms - tf_ms) // tf_ms))  # ceil((close - entry) / tf)
        return cls(float(entry_price), int(entry_ms), float(quantity), int(bars))

    def gain_pct(self, price: float) -> float:
        """The gain (%) of ``price`` over the entry price."""
        return (price / self.entry_price - 1.0) * 100.0


MONEY_STEP = Decimal("0.00000001")


class CandleStrategy(ABC):
    """Base of every strategy. Subclass it, set ``name`` and ``params``, write ``signals``.

    ``self.p`` holds the validated parameter values (``self.p.fast``). Element ``i`` of every
    array ``signals`` returns may use candles ``0..i`` only: ``blockbotx strategy check``
    recomputes on shortened histories and reports the first bar where a strategy peeked ahead.
    """

    name: ClassVar[str] = ""
    """The name bots, backtests and the command line use: lower case, digits and ``_``."""
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    builtin: ClassVar[bool] = False
    """Shipped with BlockbotX (runs without the time limit put on installed strategies)."""

    def __init__(self, p: ConfigModel) -> None:
        self.p = p

    @classmethod
    def check(cls, p: Any) -> None:
        """Raise ValueError with a readable message when values are valid one by one but not
        together (e.g. fast must be below slow). Called whenever parameters are validated."""
        return None

    def warmup(self) -> int:
        """Candles needed before the signals are reliable (indicator seeding included)."""
        return 0

    @abstractmethod
    def signals(self, candles: Candles) -> Signals:
        """Entry and exit signals for every candle; element ``i`` uses candles ``0..i`` only."""

    # -- optional per-bar hooks (API 1.1) --------------------------------------------------

    def custom_exit(self, candles: Candles, trade: OpenTrade) -> str | bool | None:
        """At the close of every candle while a position is open, unless the strategy's own
        exit signal fires there: return a reason (or True) to sell everything at the next open,
        None (or False) to hold. ``candles`` ends with the candle that just closed."""
        return None

    def position_size(self, candles: Candles, budget: Decimal) -> Decimal | float | int | None:
        """When an entry fires at the close of ``candles[-1]``: the quote amount to spend.
        ``budget`` is what the bot would spend without the hook (free cash, capped by the
        risk settings' max_position_size); more than it is cut to it, 0 or less skips the
        entry, None spends the budget."""
        return None

    @classmethod
    def hooks(cls) -> tuple[str, ...]:
        """The per-bar hooks this class defines (``custom_exit``, ``position_size``)."""
        return tuple(
            name
            for name in ("custom_exit", "position_size")
            if getattr(cls, name) is not getattr(CandleStrategy, name)
        )

    # -- used by BlockbotX ----------------------------------------------------------------

    @classmethod
    def params_model(cls) -> type[ConfigModel]:
        """The pydantic model of ``{"name": ..., **params}`` (built once per class)."""
        model = cls.__dict__.get("_params_model")
        if model is None:
            model = _build_params_model(cls)
            cls._params_model = model  # type: ignore[attr-defined]
        return model

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> CandleStrategy:
        """An instance with ``values`` validated (raises pydantic's ValidationError)."""
        return cls(cls.params_model().model_validate({**values, "name": cls.name}))


def exit_reason(name: str, answer: object) -> str | None:
    """``custom_exit``'s answer as the reason to sell (None: hold); ValueError if malformed."""
    if answer is None or answer is False:
        return None
    if answer is True:
        return f"{name}: custom exit."
    if isinstance(answer, str):
        text = answer.strip()
        return f"{name}: custom exit: {text}" if text else f"{name}: custom exit."
    raise ValueError(f"custom_exit must return a reason (str), True, False or None, not {answer!r}")


def entry_amount(answer: object, budget: Decimal) -> Decimal:
    """``position_size``'s answer as the quote amount to spend: cut to ``budget``, rounded down
    to 1e-8, 0 when the entry is skipped; ValueError if it is not a number."""
    if answer is None:
        return budget
    if isinstance(answer, bool) or not isinstance(
        answer, int | float | Decimal | np.integer | np.floating
    ):
        raise ValueError(f"position_size must return an amount or None, not {answer!r}")
    if isinstance(answer, float | np.floating):
        if not math.isfinite(float(answer)):
            raise ValueError(f"position_size returned {answer!r}, not a finite amount")
        amount = Decimal(repr(float(answer)))
    elif isinstance(answer, Decimal):
        amount = answer
    else:
        amount = Decimal(int(answer))  # int or a numpy integer
    if not amount.is_finite():
        raise ValueError(f"position_size returned {answer!r}, not a finite amount")
    if amount <= 0:
        return Decimal(0)
    return min(amount, budget).quantize(MONEY_STEP, rounding=ROUND_DOWN)


def _build_params_model(cls: type[CandleStrategy]) -> type[ConfigModel]:
    fields: dict[str, Any] = {"name": (Literal[cls.name], cls.name)}
    for key, param in cls.params.items():
        fields[key] = param.field()

    def _together(self: Any) -> Any:
        cls.check(self)
        return self

    return create_model(
        f"{cls.__name__}Params",
        __base__=ConfigModel,
        __doc__=cls.description or cls.__doc__,
        __validators__={"_together": model_validator(mode="after")(_together)},  # type: ignore[dict-item]
        **fields,
    )


def problems_of(cls: Any) -> list[str]:
    """What is wrong with a strategy class, as readable sentences (empty: it is well formed)."""
    if not isinstance(cls, type) or not issubclass(cls, CandleStrategy):
        return [f"{cls!r} is not a subclass of core.strategies.api.CandleStrategy"]
    out: list[str] = []
    if not isinstance(cls.name, str) or not NAME.match(cls.name):
        out.append(
            f"name {cls.name!r} must be 2-48 characters: a lower-case letter, then lower-case "
            "letters, digits or _"
        )
    if not isinstance(cls.api_version, int) or not 1 <= cls.api_version <= API_VERSION:
        out.append(
            f"api_version {cls.api_version!r} is not supported: this BlockbotX has strategy "
            f"API version {API_VERSION}"
        )
    if "signals" in getattr(cls, "__abstractmethods__", ()):
        out.append("it does not define signals(self, candles)")
    if not isinstance(cls.params, dict):
        return [*out, "params must be a dict of name -> Param"]
    for key, param in cls.params.items():
        if not isinstance(param, Param):
            out.append(f"params[{key!r}] is not a Param")
        elif key == "name" or not key.isidentifier():
            out.append(f"params[{key!r}]: a parameter name must be an identifier other than name")
        elif param.type not in (int, float, bool, str):
            out.append(f"params[{key!r}]: type must be int, float, bool or str")
    if out:
        return out
    try:
        instance = cls.from_params({})
    except ValidationError as exc:
        return [f"the default parameters are not valid: {exc.errors(include_url=False)}"]
    except Exception as exc:  # the author's own check() or __init__
        return [f"the default parameters are not valid: {type(exc).__name__}: {exc}"]
    try:
        warmup = instance.warmup()
    except Exception as exc:
        return [f"warmup() failed: {type(exc).__name__}: {exc}"]
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        out.append(f"warmup() must return a whole number of candles >= 0, not {warmup!r}")
    return out
