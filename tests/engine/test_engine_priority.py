"""``BLOCKBOTX_ENGINE_NICE``: an engine takes the CPU priority it is given, before its threads
start; a value outside Unix's range is refused with the setting's name, and nothing runs."""

from __future__ import annotations

import subprocess
import sys

from tests.cli_runner import run


def test_an_engine_takes_the_nice_value_it_is_given_and_its_threads_inherit_it() -> None:
    probe = (
        "import os, threading\n"
        "from tui.cli.engine import take_priority\n"
        "take_priority(7)\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.getpriority(os.PRIO_PROCESS, 0)))\n"
        "t.start(); t.join()\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0), seen[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["7", "7"]


def test_a_nice_value_out_of_range_is_refused_before_anything_runs() -> None:
    result = run(None, "engine", "--once", BLOCKBOTX_ENGINE_NICE="40")
    assert result.exit_code == 1
    assert "bad engine setting" in result.output
    assert "nice" in result.output
