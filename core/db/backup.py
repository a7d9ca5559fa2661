"""``pg_dump`` / ``pg_restore`` around the configured database, with progress callbacks.

Binaries: the ones on PATH when their major version can talk to the server, else the embedded
server's own (pgserver ships PostgreSQL 16's client tools). The password goes through
``PGPASSWORD``, never the command line (which other users can read in ``ps``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.engine import Database

Progress = Callable[[int, int, str], None]
"""(done, total, what) — called as each table is dumped or restored."""


class BackupError(Exception):
    """pg_dump/pg_restore failed or was refused; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    tables: int


def _embedded_bin() -> Path | None:
    try:
        import pgserver
    except ImportError:  # pragma: no cover - pgserver is a dependency
        return None
    path = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return path if path.is_dir() else None


async def _major(binary: str) -> int | None:
    proc = await asyncio.create_subprocess_exec(
        binary, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    match = re.search(rb"(\d+)\.", out)
    return int(match.group(1)) if match else None


async def find_tool(name: str, server_major: int) -> str:
    """A ``pg_dump``/``pg_restore`` at least as new as the server (older ones refuse)."""
    candidates = [shutil.which(name)]
    embedded = _embedded_bin()
    if embedded:
        candidates.append(str(embedded / name))
    found = []
    for candidate in filter(None, candidates):
        major = await _major(candidate)
        if major is not None:
            found.append((major, candidate))
            if major >= server_major:
                return candidate
    have = ", ".join(f"{c} ({m})" for m, c in found) or "none"
    raise BackupError(f"no {name} for PostgreSQL {server_major} or newer (found: {have})")


def libpq_target(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the client tools, and the environment carrying the password."""
    parsed = make_url(url)
    args = ["--dbname", parsed.database or "postgres"]
    host = parsed.query.get("host") or parsed.host
    if host:
        args += ["--host", str(host)]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


async def _server_major(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(text("SHOW server_version_num"))) // 10000


async def table_names(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
        return sorted(rows.scalars())


async def is_empty(db: Database) -> bool:
    """True when no table of the current schema holds a row (alembic's bookkeeping aside)."""
    async with db.engine.connect() as conn:
        for name in await table_names(db):
            if name == "alembic_version":
                continue
            if await conn.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')):
                # the migration's own singleton settings row doesn't make a database "in use"
                if name == "system_settings":
                    continue
                return False
    return True


async def _run(cmd: list[str], env: dict[str, str], on_line: Callable[[str], None]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env
    )
    assert proc.stderr is not None
    errors: list[str] = []
    async for raw in proc.stderr:
        line = raw.decode(errors="replace").rstrip()
        if "error" in line.lower() or "fatal" in line.lower():
            errors.append(line)
        on_line(line)
    if await proc.wait() != 0:
        detail = errors[-1] if errors else f"exit status {proc.returncode}"
        raise BackupError(f"{Path(cmd[0]).name} failed: {detail}")


async def backup(db: Database, path: Path, progress: Progress | None = None) -> BackupResult:
    """Dump the whole database in pg_dump's custom format (compressed, restorable per table)."""
    tables = await table_names(db)
    tool = await find_tool("pg_dump", await _server_major(db))
    args, env = libpq_target(db.url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    done = 0

    def on_line(line: str) -> None:
        nonlocal done
        match = re.search(r'dumping contents of table "(?:[^".]+\.)?([^"]+)"', line)
        if match:
            done += 1
            if progress:
                progress(done, len(tables), match.group(1))

    try:
        await _run(
            [tool, "--format=custom", "--verbose", "--file", str(partial), *args], env, on_line
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)  # a backup file exists only once it is complete
    if progress:
        progress(len(tables), len(tables), "done")
    return BackupResult(path=path, bytes=path.stat().st_size, tables=len(tables))


async def restore(
    db: Database, path: Path, *, force: bool = False, progress: Progress | None = None
) -> int:
    """Restore a backup in one transaction; refuses a non-empty database unless ``force``."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    if not force and not await is_empty(db):
        raise BackupError(
            "the database is not empty; restoring would overwrite its data (use --force)"
        )
    tool = await find_tool("pg_restore", await _server_major(db))
    args, env = libpq_target(db.url)
    listing = await asyncio.create_subprocess_exec(
        tool, "--list", str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await listing.communicate()
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a BlockbotX backup: {err.decode().strip()[:200]}")
    total = sum(1 for line in out.decode().splitlines() if " TABLE DATA " in line)
    done = 0

    def on_line(line: str) -> None:
        nonlocal done
        match = re.search(r'processing data for table "(?:[^".]+\.)?([^"]+)"', line)
        if match:
            done += 1
            if progress:
                progress(done, total, match.group(1))

    cmd = [tool, "--verbose", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    await _run([*cmd, *args, str(path)], env, on_line)
    if progress:
        progress(total, total, "done")
    return total
