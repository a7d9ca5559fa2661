"""The embedded PostgreSQL stops when the last process using it is gone, even when processes
end by SIGHUP (a closed SSH session) or died by kill -9 without a word."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from core.db.embedded import PIDS_FILE, prune_dead_pids
from tests.waiting import wait_until

pytestmark = pytest.mark.slow  # real server processes on a data dir of their own

ROOT = Path(__file__).resolve().parents[2]

# A process that joins the embedded server of the data dir given, says so, and waits.
JOIN = """
import sys, time
from pathlib import Path
from core.db import embedded
embedded.server(Path(sys.argv[1]))
print("joined", flush=True)
time.sleep(3600)
"""


@pytest.fixture
def pgdata() -> Iterator[Path]:
    """A throwaway data dir the server's own user can reach (as root it runs as 'pgserver')."""
    root = Path(tempfile.mkdtemp(prefix="blockbotx-embedded-"))
    root.chmod(0o755)
    yield root / "pgdata"
    postmaster = _postmaster(root / "pgdata")
    if postmaster is not None:  # the test failed half-way: don't leave a server behind
        postmaster.kill()
    shutil.rmtree(root, ignore_errors=True)


def _postmaster(pgdata: Path) -> psutil.Process | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        process = psutil.Process(int(pid_file.read_text().splitlines()[0]))
    except (psutil.NoSuchProcess, ValueError, IndexError):
        return None
    return process if process.is_running() else None


def _pids(pgdata: Path) -> list[int]:
    return [int(p) for p in json.loads((pgdata / PIDS_FILE).read_text())]


def _join(pgdata: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", JOIN, str(pgdata)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until it joined (or died)
    assert line.strip() == "joined", process.stderr.read() if process.stderr else ""
    return process


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


async def test_the_server_stops_when_the_last_process_ends_by_sighup(pgdata: Path) -> None:
    first = _join(pgdata)
    try:
        server = _postmaster(pgdata)
        assert server is not None
        # a dashboard killed by kill -9 earlier left its pid behind
        killed = _dead_pid()
        (pgdata / PIDS_FILE).write_text(json.dumps([*_pids(pgdata), killed]))
        second = _join(pgdata)  # joining drops it
        try:
            assert sorted(_pids(pgdata)) == sorted([first.pid, second.pid])

            first.send_signal(signal.SIGHUP)
            assert first.wait(120) == -signal.SIGHUP  # it still dies of the signal
            assert _pids(pgdata) == [second.pid]
            assert server.is_running()  # the other process still uses it

            second.send_signal(signal.SIGHUP)
            assert second.wait(120) == -signal.SIGHUP
            await wait_until(lambda: not server.is_running(), 120, "the server to stop")
            assert _pids(pgdata) == []
        finally:
            if second.poll() is None:
                second.kill()
    finally:
        if first.poll() is None:
            first.kill()


async def test_a_dead_pid_does_not_keep_the_server_up(pgdata: Path) -> None:
    joined = _join(pgdata)
    try:
        server = _postmaster(pgdata)
        assert server is not None
        killed = _dead_pid()
        (pgdata / PIDS_FILE).write_text(json.dumps([*_pids(pgdata), killed]))
        joined.send_signal(signal.SIGTERM)  # the last live user goes: the dead pid can't hold it
        assert joined.wait(120) == -signal.SIGTERM
        await wait_until(lambda: not server.is_running(), 120, "the server to stop")
    finally:
        if joined.poll() is None:
            joined.kill()
    assert prune_dead_pids(pgdata) == []  # nothing left to drop
