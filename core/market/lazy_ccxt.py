"""ccxt, imported when first used.

Importing ccxt loads every exchange's class, sync and async (1-2 s of CPU), which a process that
only trades on the simulated market never needs: an engine of paper bots, most commands, every
test process. ``ccxt`` and ``ccxtpro`` here stand for ``ccxt.async_support`` and ``ccxt.pro``
and import them on the first attribute read. An ``except ccxt.BaseError`` clause reads it only
when an exception is being matched, and a ccxt exception exists only once ccxt is imported:
``loaded()`` says whether it is, so code that only tells ccxt errors apart can skip the import.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any


class _OnFirstUse:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


def loaded() -> bool:
    """Whether ccxt has been imported in this process (by anything)."""
    return "ccxt" in sys.modules


if TYPE_CHECKING:
    import ccxt.async_support as ccxt
    import ccxt.pro as ccxtpro
else:
    ccxt = _OnFirstUse("ccxt.async_support")
    ccxtpro = _OnFirstUse("ccxt.pro")

__all__ = ["ccxt", "ccxtpro", "loaded"]
