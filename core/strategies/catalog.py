"""Every strategy this process can run, by name: the built-ins, then the strategy directories
(``strategies/`` in the config dir, then each ``--strategy-path`` / ``BLOCKBOTX_STRATEGY_PATH``
directory), then the ``blockbotx.strategies`` entry points. Installed strategies load on the
first lookup of a name that is not built in (the engine and the dashboard never pay for it
otherwise). A built-in name can't be taken; of two strategies with one name the first wins and
the second is reported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, PlainValidator, Tag, ValidationError

from core.errors import InvalidInput
from core.paths import config_dir
from core.strategies import loader
from core.strategies.api import CandleStrategy, Param
from core.strategies.config import ConfigModel, describe_validation_error
from core.strategies.loader import Found, Problem
from core.strategies.technical import BUILTINS, TECHNICAL_SIGNALS
from core.validation import NestedInvalid

PATH_ENV = "BLOCKBOTX_STRATEGY_PATH"
BUILTIN_NAMES = tuple(cls.name for cls in BUILTINS)


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    name: str
    description: str
    source: str  # "built-in", a file, or an entry point
    api_version: int
    params: Mapping[str, Param]


@dataclass
class _Catalog:
    strategies: dict[str, Found]
    problems: list[Problem]


_lock = threading.Lock()
_catalog: _Catalog | None = None
_extra_paths: list[Path] = []


def strategy_dirs() -> list[Path]:
    """Where strategy files are looked for, in order."""
    from_env = [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p.strip()]
    return [config_dir() / "strategies", *from_env, *_extra_paths]


def add_path(directory: str | Path) -> None:
    """Also load the strategies of ``directory`` (``--strategy-path``)."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise InvalidInput(f"Strategy path {directory} is not a directory.", field="strategy_path")
    with _lock:
        if path not in _extra_paths:
            _extra_paths.append(path)
    reload()


def reload() -> None:
    """Forget what was loaded; the next lookup reads the directories and entry points again."""
    global _catalog
    with _lock:
        _catalog = None


def _load() -> _Catalog:
    global _catalog
    with _lock:
        if _catalog is not None:
            return _catalog
        found: dict[str, Found] = {cls.name: Found(cls, "built-in") for cls in BUILTINS}
        problems: list[Problem] = []
        sources = [d for directory in strategy_dirs() for d in loader.from_directory(directory)]
        for item in [*sources, *loader.from_entry_points()]:
            if isinstance(item, Problem):
                problems.append(item)
            elif item.cls.name in found:
                if found[item.cls.name].cls is not item.cls:
                    problems.append(
                        Problem(
                            item.source,
                            f"the name {item.cls.name!r} is already taken by "
                            f"{found[item.cls.name].source}; this one is ignored",
                        )
                    )
            else:
                found[item.cls.name] = item
        _catalog = _Catalog(found, problems)
        return _catalog


def get(name: str) -> type[CandleStrategy]:
    """The strategy class called ``name`` (InvalidInput naming the known ones if none is)."""
    for cls in BUILTINS:
        if cls.name == name:
            return cls
    found = _load().strategies.get(name)
    if found is None:
        raise InvalidInput(
            f"Unknown strategy {name!r}: choose one of {', '.join(names())}.", field="strategy"
        )
    return found.cls


def names() -> list[str]:
    return list(_load().strategies)


def list_strategies() -> list[StrategyInfo]:
    return [
        StrategyInfo(
            name,
            found.cls.description or (found.cls.__doc__ or "").strip().split("\n")[0],
            found.source,
            found.cls.api_version,
            dict(found.cls.params),
        )
        for name, found in _load().strategies.items()
    ]


def problems() -> list[Problem]:
    """Files and entry points that could not be loaded, and why."""
    return list(_load().problems)


def build(name: str, params: Mapping[str, Any]) -> CandleStrategy:
    """An instance of ``name`` with ``params`` validated (InvalidInput naming each bad one)."""
    cls = get(name)
    try:
        return cls.from_params(params)
    except ValidationError as exc:
        raise describe_validation_error(exc, name) from None
    except ValueError as exc:  # the author's own __init__; check() errors are ValidationErrors
        raise InvalidInput(f"{name}: {exc}", field=name) from None


def validate_params(value: Any) -> ConfigModel:
    """A stored ``{"name": ..., **params}`` as the named strategy's parameter model (what a
    signal bot's ``indicator`` holds for an installed strategy)."""
    if isinstance(value, ConfigModel):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError("the strategy needs a name, like {'name': 'sma_cross'}")
    try:
        cls = get(value["name"])
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None
    try:
        return cls.params_model().model_validate(value)
    except ValidationError as exc:
        raise NestedInvalid(describe_validation_error(exc, cls.name)) from None


def _tag(value: Any) -> str:
    name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
    return name if name in BUILTIN_NAMES else "installed"


if TYPE_CHECKING:
    StrategyParams = ConfigModel
else:
    StrategyParams = Annotated[
        Union[  # noqa: UP007 - a union built from a tuple
            tuple(
                [Annotated[model, Tag(name)] for name, model in TECHNICAL_SIGNALS.items()]
                + [Annotated[Any, PlainValidator(validate_params), Tag("installed")]]
            )
        ],
        Discriminator(_tag),
    ]
"""A signal bot's ``indicator``: a built-in's parameters (validated exactly as before the API
existed, errors under ``indicator.<name>``) or an installed strategy's (``indicator.installed``)."""
