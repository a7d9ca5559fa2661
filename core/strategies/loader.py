"""Finding installed strategies: ``*.py`` files in strategy directories, and the classes named
by the ``blockbotx.strategies`` entry-point group (how a pip-installed strategy pack announces
itself). A file or entry point that fails to load is reported as a problem; it never stops the
others, the engine or the dashboard.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from core.strategies.api import CandleStrategy, problems_of

ENTRY_POINT_GROUP = "blockbotx.strategies"


@dataclass(frozen=True, slots=True)
class Found:
    cls: type[CandleStrategy]
    source: str  # the file, or "entry point NAME (package)"


@dataclass(frozen=True, slots=True)
class Problem:
    source: str
    message: str


def from_directory(directory: Path) -> Iterator[Found | Problem]:
    """The strategy classes defined in each ``*.py`` file of ``directory`` (files starting with
    ``_`` or ``test_`` are skipped: helpers and the tests ``strategy new`` writes)."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith(("_", "test_")):
            continue
        yield from from_file(path)


def from_file(path: Path) -> Iterator[Found | Problem]:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"blockbotx_strategies_{path.stem}_{digest}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look modules up here
        spec.loader.exec_module(module)
    except Exception as exc:  # an author's import-time error must not take anything down
        sys.modules.pop(module_name, None)
        yield Problem(str(path), f"failed to load: {type(exc).__name__}: {exc}")
        return
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, CandleStrategy)
        and value.__module__ == module_name
        and not getattr(value, "__abstractmethods__", None)
    ]
    if not classes:
        yield Problem(str(path), "defines no CandleStrategy subclass")
    for cls in classes:
        yield _checked(cls, str(path))


def from_entry_points() -> Iterator[Found | Problem]:
    for point in entry_points(group=ENTRY_POINT_GROUP):
        package = point.dist.name if point.dist is not None else "?"
        source = f"entry point {point.name} ({package})"
        try:
            cls = point.load()
        except Exception as exc:
            yield Problem(source, f"failed to load {point.value}: {type(exc).__name__}: {exc}")
            continue
        yield _checked(cls, source)


def _checked(cls: type[CandleStrategy], source: str) -> Found | Problem:
    wrong = problems_of(cls)
    if wrong:
        return Problem(source, f"{getattr(cls, '__name__', cls)}: {'; '.join(wrong)}")
    return Found(cls, source)
