"""The suite's own machinery: per-test cost records, their summary and saved durations, and
the order the modules run in (costliest first, each module's tests together)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import conftest, costs


@dataclass
class Item:
    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return name if name == "slow" and self.slow else None


def line(test: str, wall: float, cpu: float, children: float = 0.0, **more: object) -> str:
    return json.dumps({"test": test, "phase": "call", "wall": wall, "cpu": cpu,
                       "children": children, **more})  # fmt: skip


def test_costliest_modules_first_each_kept_together(monkeypatch: pytest.MonkeyPatch) -> None:
    known = {"tests/a.py": 1.0, "tests/b.py": 30.0, "tests/c.py": 5.0, "tests/d.py": 0.5}
    monkeypatch.setattr(costs, "durations", lambda: known)
    items = [
        Item("tests/a.py::one"),
        Item("tests/b.py::one"),
        Item("tests/new.py::quick"),  # not saved yet: a middling cost (the median, 3 s)
        Item("tests/a.py::two"),
        Item("tests/d.py::one"),
        Item("tests/b.py::two"),
        Item("tests/c.py::one"),
        Item("tests/new_slow.py::engine", slow=True),  # not saved yet, starts processes
    ]
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "tests/new_slow.py::engine",
        "tests/b.py::one",
        "tests/b.py::two",
        "tests/c.py::one",
        "tests/new.py::quick",
        "tests/a.py::one",
        "tests/a.py::two",
        "tests/d.py::one",
    ]


def test_costs_are_summed_by_module_and_saved_as_durations(tmp_path: Path) -> None:
    records = tmp_path / "costs.jsonl"
    records.write_text(
        "\n".join(
            [
                line("tests/x.py::a", 2.0, 1.0, 0.5, worker="gw0", end=100.0),
                line("tests/x.py::b", 1.0, 0.25, worker="gw1", end=90.0),
                line("tests/y.py::a", 4.0, 3.0, worker="gw0", end=96.0),
            ]
        )
        + "\n"
    )
    report = costs.summary([records])
    assert report.splitlines()[0] == "total CPU 4.8 s in 3 tests"
    assert "gw0 +0.0 s, gw1 -10.0 s" in report
    assert report.index("3.00  tests/y.py") < report.index("1.75  tests/x.py")
    saved = tmp_path / "durations.json"
    costs.save_durations([records], saved)
    assert costs.durations(saved) == {"tests/x.py": 3.0, "tests/y.py": 4.0}
    assert costs.durations(tmp_path / "none.json") == {}
