"""Installing strategies the way an operator does, into a test's own temporary directories."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.strategies import catalog

DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"


def docs_example(index: int = 0) -> str:
    """A Python block of docs/strategies.md (the first by default): the strategy a reader would
    copy. The second is the example with per-bar hooks (``dip_buyer``)."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) > index, "docs/strategies.md has the python examples"
    return str(blocks[index])


NEXT_CLOSE = """
import numpy as np
from core.strategies.api import CandleStrategy, Param, Signals


class Peeker(CandleStrategy):
    name = "peeker"
    params = {"period": Param(int, 5, min=2, max=100, help="unused")}

    def signals(self, candles):
        later = np.append(candles.close[1:], np.nan)  # the next candle's close: look-ahead
        with np.errstate(invalid="ignore"):
            return Signals(entry=later > candles.close, exit=later < candles.close)
"""

RAISES = """
from core.strategies.api import CandleStrategy, Signals


class Boom(CandleStrategy):
    name = "boom"

    def signals(self, candles):
        raise RuntimeError("division by the author")
"""

HANGS = """
from core.strategies.api import CandleStrategy, Signals
from tests.strategies.gate import RELEASE


class Stuck(CandleStrategy):
    name = "stuck"

    def signals(self, candles):
        RELEASE.wait()  # never returns until the test ends
        raise RuntimeError("released")
"""


class Installer:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dir = root / "strategies"
        self.dir.mkdir()
        monkeypatch.setenv(catalog.PATH_ENV, str(self.dir))
        monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(root / "config"))
        catalog.reload()

    def add(self, filename: str, code: str) -> Path:
        path = self.dir / filename
        path.write_text(textwrap.dedent(code), encoding="utf-8")
        catalog.reload()
        return path


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    yield Installer(tmp_path, monkeypatch)
    monkeypatch.undo()
    catalog.reload()
