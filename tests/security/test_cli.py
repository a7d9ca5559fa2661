"""``blockbotx user create|reset-password`` and ``vault rotate`` as an operator runs them
(in-process through click's runner, against the real test database)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.users import User
from core.security import tokens
from core.security import vault as vault_module
from core.security.device import describe
from core.services import accounts
from tests.security.conftest import PASSWORD
from tui.cli.main import cli


@pytest.fixture
def run(db: Database, migrated_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    from core.config import get_settings

    get_settings.cache_clear()

    def _run(*args: str, stdin: str = "") -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin)

    yield _run
    get_settings.cache_clear()


def _login_with(url: str, email: str, password: str) -> object:
    async def go() -> object:
        database = Database(url)
        try:
            return await accounts.login(
                database,
                email=email,
                password=password,
                device=describe(ip="local", terminal="t", host="h", os_user="u"),
            )
        finally:
            await database.dispose()

    return asyncio.run(go())


def _user(url: str, email: str) -> User:
    async def go() -> User:
        database = Database(url)
        try:
            async with database.session() as s:
                return await s.scalar(select(User).where(User.email == email))
        finally:
            await database.dispose()

    return asyncio.run(go())


def test_user_create_and_reset_password(run, migrated_url: str) -> None:  # type: ignore[no-untyped-def]
    made = run("user", "create", "Ops@Example.com", "--role", "admin", stdin=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert "Created ops@example.com (admin)" in made.output
    assert PASSWORD not in made.output
    again = run("user", "create", "ops@example.com", stdin=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output
    weak = run("user", "create", "w@example.com", stdin="password\n")
    assert weak.exit_code == 1 and "at least 12" in weak.output
    assert run("user", "create", "r@example.com", "--role", "god", stdin=PASSWORD).exit_code == 2

    reset = run("user", "reset-password", "ops@example.com")
    assert reset.exit_code == 0, reset.output
    token = reset.stdout.strip().splitlines()[-1]
    assert token.startswith(tokens.RESET_PREFIX) and "not shown again" in reset.output
    user = _user(migrated_url, "ops@example.com")
    assert user.role == "admin" and user.reset_password_token == tokens.hash_token(token)
    assert isinstance(
        _login_with(migrated_url, "ops@example.com", token), accounts.NeedsNewPassword
    )
    missing = run("user", "reset-password", "nobody@example.com")
    assert missing.exit_code == 1 and "No account" in missing.output


def test_vault_rotate(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    env_key = run("vault", "rotate")
    assert env_key.exit_code == 1 and "BLOCKBOTX_PREVIOUS_MASTER_KEY" in env_key.output
    monkeypatch.delenv("BLOCKBOTX_MASTER_KEY")
    monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(tmp_path))
    try:
        first = run("vault", "rotate")
        assert first.exit_code == 0, first.output
        assert "re-encrypted 0 of 0 secrets" in first.output
        assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    finally:
        vault_module.get_vault.cache_clear()


def test_reset_token_is_emailed_when_email_is_configured(  # type: ignore[no-untyped-def]
    run, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from aiosmtpd.controller import Controller

    from core.config import get_settings

    mails: list[tuple[list[str], str]] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            mails.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run("user", "create", "mail@example.com", stdin=PASSWORD + "\n").exit_code == 0
        monkeypatch.setenv("BLOCKBOTX_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BLOCKBOTX_SMTP_PORT", str(port))
        monkeypatch.setenv("BLOCKBOTX_SMTP_SECURITY", "none")
        get_settings.cache_clear()
        reset = run("user", "reset-password", "mail@example.com")
    finally:
        controller.stop()
    assert reset.exit_code == 0, reset.output
    assert "emailed to mail@example.com" in reset.output
    [(to, body)] = mails
    token = next(w for w in body.split() if w.startswith(tokens.RESET_PREFIX))
    assert to == ["mail@example.com"] and token not in reset.output
    user = _user(migrated_url, "mail@example.com")
    assert user.reset_password_token == tokens.hash_token(token)

    async def stored_anywhere() -> bool:
        database = Database(migrated_url)
        try:
            async with database.session() as s:
                from sqlalchemy import text

                hits = await s.scalar(
                    text("SELECT count(*) FROM notifications WHERE message LIKE :t"),
                    {"t": f"%{token}%"},
                )
                return bool(hits)
        finally:
            await database.dispose()

    assert not asyncio.run(stored_anywhere())  # only its hash is kept
    assert isinstance(
        _login_with(migrated_url, "mail@example.com", token), accounts.NeedsNewPassword
    )
