"""The service layer stays headless: importing all of ``core`` never pulls in textual or rich."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # imports all of core in a process of its own
def test_core_never_imports_textual_or_rich() -> None:
    # httpx (under stripe) imports its own command-line client when rich is installed, which
    # it always is beside textual; keep that out so the check is about our own imports.
    script = """
import importlib, pkgutil, sys
sys.modules["httpx._main"] = None
import core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"textual", "rich", "tui"})
print(len(names))
assert not bad, bad
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 10  # really walked the package
