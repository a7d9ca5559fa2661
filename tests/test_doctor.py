"""``blockbotx doctor`` against real parts: the test database, a local SMTP server, nothing."""

import socket

from aiosmtpd.controller import Controller

from core.config import Settings
from core.db.engine import Database
from core.doctor import DoctorContext, Status, run_checks
from tests.cli_runner import invoke


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _by_name(checks):  # type: ignore[no-untyped-def]
    return {c.name: c for c in checks}


async def test_healthy_installation(db: Database, migrated_url: str) -> None:
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


async def test_cli_table_and_exit_status(db: Database, migrated_url: str) -> None:
    ok = await invoke(migrated_url, "doctor", COLUMNS="160")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "All good" in ok.stderr and "migrations" in ok.stdout  # the table is the result
    down = await invoke("postgresql://x:secretpw@127.0.0.1:1/db", "doctor", COLUMNS="160")
    assert down.exit_code == 1
    assert "cannot reach" in down.stdout  # the cell may wrap at the terminal's width
    assert "secretpw" not in down.stdout + down.stderr and "Traceback" not in down.stderr


async def test_exchange_connections_are_checked_with_their_owners_keys(db: Database) -> None:
    from core.services import exchanges
    from tests.fake_exchange import FakeBinance, exchange_factory
    from tests.service_users import add_user

    async with FakeBinance() as fake:
        fake.add_account("GoodKey123456", "good-secret", USDT=100)
        alice = await add_user(db, "alice@example.com")
        bob = await add_user(db, "bob@example.com")
        await exchanges.add_connection(
            db, alice, exchange="binance", api_key="GoodKey123456", secret="good-secret"
        )
        await exchanges.add_connection(
            db, bob, exchange="binance", api_key="GoodKey123456", secret="wrong-secret"
        )
        ctx = DoctorContext(
            Settings(_env_file=None), db, exchange_factory=exchange_factory(fake, timeout_ms=500)
        )
        checks = _by_name(await run_checks(ctx))
    good = checks["exchange binance (alice@example.com)"]
    bad = checks["exchange binance (bob@example.com)"]
    assert good.status is Status.OK and "Binance" in good.detail
    assert bad.status is Status.FAIL and "rejected" in bad.detail
    assert "good-secret" not in repr(checks) and "wrong-secret" not in repr(checks)


async def test_discord_webhooks_are_probed(db: Database) -> None:
    from aiohttp import web

    from core.services import notifications
    from tests.service_users import add_user

    hits: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append(request.method)
        return web.json_response({"id": "1"})

    app = web.Application()
    app.router.add_get("/api/webhooks/1/abc", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        carol = await add_user(db, "carol@example.com", plan="pro")
        async with db.sessions.begin() as s:
            await notifications.update_preferences(
                s,
                carol,
                {
                    "discord_enabled": True,
                    "discord_webhook_url": f"http://127.0.0.1:{port}/api/webhooks/1/abc",
                },
            )
        ctx = DoctorContext(Settings(_env_file=None), db)
        checks = _by_name(await run_checks(ctx))
    finally:
        await runner.cleanup()
    assert checks["discord"].status is Status.OK, checks["discord"]
    assert hits == ["GET"]  # probed, nothing posted
