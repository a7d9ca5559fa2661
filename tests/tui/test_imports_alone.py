"""Every module of ``tui`` can be imported first, alone, in a fresh interpreter.

An import cycle held together by import order (``tui.screens.commands`` used to work only
because ``tui.providers`` had been loaded before it) fails here: each module is imported in a
forked child of an interpreter that has loaded the third-party libraries but none of our code,
so the child's import of the module is the first of every ``tui`` and ``core`` module.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # every module imported in processes of its own


def tui_modules() -> list[str]:
    """Every module under ``tui/``, found on disk (importing the package would load it here)."""
    names = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # a script: importing it runs it
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


# Loads the libraries and ``core``, then forks one child per module, which imports only tui's
# own code: a hundred fresh first imports without loading textual, pydantic or ccxt a hundred
# times.
CHILDREN = r"""
import importlib, json, os, sys, traceback

out, names = sys.argv[1], sys.argv[2:]


def in_child(work):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            message = work()
        except BaseException as exc:
            message = "".join(traceback.format_exception(exc))[-3000:] or repr(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return message if message or status == 0 else f"the child died: status {status}"


# The libraries, and all of ``core``: core never imports tui (test_layers, import-linter), so a
# cycle through a tui module can't pass through core, and core's import is the slow part.
import core, pkgutil, textual.app, textual.widgets

for lib in textual.widgets.__all__:
    getattr(textual.widgets, lib)
for module in pkgutil.walk_packages(core.__path__, "core."):
    importlib.import_module(module.name)
ours = sorted(m for m in sys.modules if m.split(".")[0] == "tui")
assert not ours, f"the libraries loaded our code: {ours}"


def first_import(name):
    return lambda: importlib.import_module(name) and ""


results = {name: in_child(first_import(name)) for name in names}
with open(out, "w") as f:
    json.dump(results, f)
"""


@pytest.fixture(scope="module")
def imported_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Module name -> the traceback of importing it first ("" when it imported).

    Run once per test session: under pytest-xdist the workers share the base temp directory's
    parent, and the first to take the lock runs the children for all."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this session's directory, above the worker's own
    out = shared / "tui-imported-alone.json"
    with (shared / "tui-imported-alone.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            run = subprocess.run(
                [sys.executable, "-c", CHILDREN, str(out), *tui_modules()],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, run.stderr[-3000:]
    results: dict[str, str] = json.loads(out.read_text())
    return results


@pytest.mark.parametrize("module", tui_modules())
def test_module_imports_first_and_alone(module: str, imported_alone: dict[str, str]) -> None:
    assert imported_alone[module] == "", imported_alone[module]


def test_the_palette_commands_import_first_in_a_fresh_interpreter() -> None:
    """The case that was broken: ``import tui.screens.commands`` first raised ImportError."""
    run = subprocess.run(
        [sys.executable, "-c", "import tui.screens.commands"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]


def test_the_module_list_is_the_whole_package() -> None:
    names = tui_modules()
    assert {"tui", "tui.app", "tui.screens.commands", "tui.service_call"} <= set(names)
    assert len(names) > 50
