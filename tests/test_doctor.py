"""``blockbotx doctor`` against real parts: the test database, a local SMTP server, nothing."""

import socket

from aiosmtpd.controller import Controller

from core.config import Settings
from core.db.engine import Database
from core.doctor import DoctorContext, Status, run_checks
from tests.test_cli import run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _by_name(checks):  # type: ignore[no-untyped-def]
    return {c.name: c for c in checks}


async def test_healthy_installation(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        checks = _by_name(await run_checks(DoctorContext(Settings(_env_file=None), db)))
    finally:
        await db.dispose()
    assert checks["database"].status is Status.OK and "PostgreSQL" in checks["database"].detail
    assert checks["migrations"].status is Status.OK
    assert checks["master key"].status is Status.OK  # BLOCKBOTX_MASTER_KEY in the test env
    assert checks["clock skew"].status is Status.OK
    assert checks["email (SMTP)"].status is Status.SKIP


async def test_smtp_reachable_and_unreachable(migrated_url: str) -> None:
    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        good = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        checks = _by_name(await run_checks(DoctorContext(good, None)))
        assert checks["email (SMTP)"].status is Status.OK
    finally:
        controller.stop()
    closed = _free_port()
    bad = Settings(smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none")
    checks = _by_name(await run_checks(DoctorContext(bad, None)))
    assert checks["email (SMTP)"].status is Status.FAIL
    assert checks["database"].status is Status.FAIL
    assert checks["clock skew"].status is Status.SKIP


def test_cli_table_and_exit_status(migrated_url: str) -> None:
    ok = run_cli("doctor", env={"DATABASE_URL": migrated_url, "COLUMNS": "160"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "All good" in ok.stderr and "migrations" in ok.stderr
    down = run_cli(
        "doctor", env={"DATABASE_URL": "postgresql://x:secretpw@127.0.0.1:1/db", "COLUMNS": "200"}
    )
    assert down.returncode == 1
    assert "cannot reach the database" in down.stderr
    assert "secretpw" not in down.stderr and "Traceback" not in down.stderr
