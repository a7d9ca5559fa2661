"""Per-test CPU costs, for finding what makes the suite slow on a busy machine.

Wall-clock durations (``--durations``) measured while other work shares the cores say more
about the load than about the test. With ``BLOCKBOTX_TEST_COSTS=<file>`` set, every test's
setup, call and teardown append one line to that file (a JSON object: node id, phase, wall
seconds, CPU seconds of the worker itself and of the processes it started and waited for).
The PostgreSQL server's own CPU is not in it. ``python -m tests.costs <file>`` sums the lines
by test and by module, most expensive first.
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


def summary(path: Path, top: int = 40) -> str:
    by_test: dict[str, float] = defaultdict(float)
    by_module: dict[str, float] = defaultdict(float)
    total = 0.0
    for raw in path.read_text().splitlines():
        line = json.loads(raw)
        cost = line["cpu"] + line["children"]
        by_test[line["test"]] += cost
        by_module[line["test"].split("::")[0]] += cost
        total += cost
    rows = [f"total CPU {total:.1f} s in {len(by_test)} tests"]
    for title, costs in (("modules", by_module), ("tests", by_test)):
        rows.append(f"-- {title}, CPU seconds")
        ranked = sorted(costs.items(), key=lambda kv: -kv[1])[:top]
        rows += [f"{cost:8.2f}  {name}" for name, cost in ranked]
    return "\n".join(rows)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
