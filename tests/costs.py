"""Per-test CPU costs, for finding what makes the suite slow on a busy machine.

Wall-clock durations (``--durations``) measured while other work shares the cores say more
about the load than about the test. With ``BLOCKBOTX_TEST_COSTS=<file>`` set, every test's
setup, call and teardown append one line to that file (a JSON object: node id, phase, wall
seconds, CPU seconds of the worker itself and of the processes it started and waited for,
the worker and when it ended).
The PostgreSQL server's own CPU is not in it. ``python -m tests.costs <file>...`` sums the
lines by test and by module, most expensive first; with ``--save`` it also writes each module's
wall time to ``tests/durations.json``, which orders the modules of the next runs (conftest.py).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV = "BLOCKBOTX_TEST_COSTS"
DURATIONS = Path(__file__).with_name("durations.json")


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _record(self, item: pytest.Item, phase: str) -> Iterator[None]:
        wall, (own, children) = time.perf_counter(), _cpu()
        yield
        own_after, children_after = _cpu()
        line = {
            "test": item.nodeid,
            "phase": phase,
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "end": round(time.time(), 3),
            "wall": round(time.perf_counter() - wall, 3),
            "cpu": round(own_after - own, 3),
            "children": round(children_after - children, 3),
        }
        with self.path.open("a") as out:  # one short write per line: workers may share it
            out.write(json.dumps(line) + "\n")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._record(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._record(item, "call"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._record(item, "teardown"))


def register(config: pytest.Config) -> None:
    """Record costs when the environment asks for it (tests/conftest.py calls this)."""
    if os.environ.get(ENV):
        config.pluginmanager.register(Recorder(Path(os.environ[ENV])), "blockbotx-costs")


def _lines(paths: list[Path]) -> list[dict]:
    return [json.loads(raw) for path in paths for raw in path.read_text().splitlines()]


def module_of(test: str) -> str:
    return test.split("::")[0]


def summary(paths: list[Path], top: int = 40) -> str:
    by_test: dict[str, float] = defaultdict(float)
    by_module: dict[str, float] = defaultdict(float)
    for line in _lines(paths):
        cost = line["cpu"] + line["children"]
        by_test[line["test"]] += cost
        by_module[module_of(line["test"])] += cost
    rows = [f"total CPU {sum(by_test.values()):.1f} s in {len(by_test)} tests"]
    rows += _tail(_lines(paths))
    for title, costs in (("modules", by_module), ("tests", by_test)):
        rows.append(f"-- {title}, CPU seconds")
        ranked = sorted(costs.items(), key=lambda kv: -kv[1])[:top]
        rows += [f"{cost:8.2f}  {name}" for name, cost in ranked]
    return "\n".join(rows)


def _tail(lines: list[dict]) -> list[str]:
    """When each worker ran its last test, counted back from the run's end: a long test left
    running alone at the end shows as one worker finishing long after the others."""
    last: dict[str, float] = {}
    for line in lines:
        if "end" in line:
            last[line["worker"]] = max(last.get(line["worker"], 0.0), line["end"])
    if not last:
        return []
    end = max(last.values())
    finished = ", ".join(f"{w} {t - end:+.1f} s" for w, t in sorted(last.items()))
    return [f"workers' last test ended (from the run's end): {finished}"]


def save_durations(paths: list[Path], out: Path = DURATIONS) -> None:
    """Each module's summed wall time, for ordering the modules of later runs."""
    walls: dict[str, float] = defaultdict(float)
    for line in _lines(paths):
        walls[module_of(line["test"])] += line["wall"]
    ordered = {name: round(walls[name], 1) for name in sorted(walls)}
    out.write_text(json.dumps(ordered, indent=0) + "\n")


def durations(path: Path = DURATIONS) -> dict[str, float]:
    """Module path (``tests/…/test_x.py``) -> seconds, as last saved; empty if never saved."""
    return json.loads(path.read_text()) if path.exists() else {}


if __name__ == "__main__":
    files = [Path(arg) for arg in sys.argv[1:] if arg != "--save"]
    print(summary(files))
    if "--save" in sys.argv:
        save_durations(files)
