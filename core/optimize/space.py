"""The search space of an optimisation: ``--space NAME=LOW:HIGH[:STEP]`` per parameter.

Both bounds are included. Whole-number bounds (and step) search integers; a decimal bound makes
the parameter a float, which the grid sampler needs a step for. A name must be a parameter the
strategy declares.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import InvalidInput

MAX_GRID = 100_000  # grid points: beyond this a grid search is a mistake, not a plan


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    low: int | float
    high: int | float
    step: int | float | None  # None: a continuous float

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int)

    def grid(self) -> list[int | float]:
        if self.step is None:
            raise InvalidInput(
                f"--space {self.name}: a grid needs a step for a decimal range "
                f"(for example {self.name}={self.low}:{self.high}:0.5).",
                field="space",
            )
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        if self.is_int:
            return [int(self.low + k * self.step) for k in range(count)]
        return [float(Decimal(repr(self.low)) + k * Decimal(repr(self.step))) for k in range(count)]

    def text(self) -> str:
        return f"{self.name}={self.low}:{self.high}" + (f":{self.step}" if self.step else "")


def _number(text: str, spec: str) -> int | float:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(
            f"--space {spec!r}: {text.strip()!r} is not a number.", field="space"
        ) from None
    if not value.is_finite():
        raise InvalidInput(f"--space {spec!r}: {text.strip()!r} is not a number.", field="space")
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def parse_dimension(spec: str) -> Dimension:
    name, sep, rest = spec.partition("=")
    parts = rest.split(":")
    if not sep or not name.strip() or len(parts) not in (2, 3):
        raise InvalidInput(
            f"--space takes NAME=LOW:HIGH or NAME=LOW:HIGH:STEP (like fast=5:30), not {spec!r}.",
            field="space",
        )
    numbers = [_number(p, spec) for p in parts]
    low, high = numbers[0], numbers[1]
    step = numbers[2] if len(numbers) == 3 else None
    if any(isinstance(n, float) for n in numbers):
        low, high = float(low), float(high)
        step = None if step is None else float(step)
    elif step is None:
        step = 1
    if high < low:
        raise InvalidInput(f"--space {spec!r}: the high bound is below the low one.", field="space")
    if step is not None and step <= 0:
        raise InvalidInput(f"--space {spec!r}: the step must be positive.", field="space")
    return Dimension(name.strip(), low, high, step)


def parse_space(
    specs: Iterable[str], known: Mapping[str, Any] | None = None
) -> tuple[Dimension, ...]:
    """Parse ``--space`` values; ``known`` (the strategy's parameters) refuses other names."""
    dims = tuple(parse_dimension(s) for s in specs)
    if not dims:
        raise InvalidInput("Give at least one --space NAME=LOW:HIGH to search.", field="space")
    names = [d.name for d in dims]
    for name in names:
        if names.count(name) > 1:
            raise InvalidInput(f"--space {name} is given twice.", field="space")
        if known is not None and name not in known:
            raise InvalidInput(
                f"--space {name}: the strategy has no parameter {name!r} "
                f"(it has {', '.join(known) or 'none'}).",
                field="space",
            )
    return dims


def grid_size(dims: Iterable[Dimension]) -> int:
    return math.prod(len(d.grid()) for d in dims)


def check_grid(dims: tuple[Dimension, ...]) -> dict[str, list[int | float]]:
    """The grid sampler's search space, refused when it is too large to walk."""
    size = grid_size(dims)
    if size > MAX_GRID:
        raise InvalidInput(
            f"The grid has {size:,} points (more than {MAX_GRID:,}): narrow the ranges, "
            "raise the steps or use --sampler tpe.",
            field="space",
        )
    return {d.name: d.grid() for d in dims}
