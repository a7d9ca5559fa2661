"""Arbitrary text into every auth entry point: only typed errors, and a refused *input*
(InvalidInput) leaves the database exactly as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.db.engine import Database
from core.errors import InvalidInput, ServiceError
from core.security.device import Device
from core.services import accounts, api_keys, sessions, twofactor
from core.services.actor import SYSTEM
from core.services.authconfig import AuthConfig
from tests.security.conftest import PASSWORD, signed_up_and_in

TABLES = (
    "users",
    "sessions",
    "two_factor_auth",
    "login_history",
    "known_devices",
    "api_keys",
    "audit_logs",
    "security_logs",
    "blocked_ips",
    "notifications",
)
texts = st.text(max_size=80) | st.sampled_from(
    [
        "",
        " ",
        "a@b.co",
        "bbxr_x",
        "bbx_1234abcd_x",
        "123456",
        "x" * 300,
        "\x00",
        "a\x00@b.co",
        "\ud800",
        "correct horse \ud800 battery",
    ]
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def test_text_that_is_not_unicode_never_crashes(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    """Regression: lone surrogates and NULs once reached argon2 and PostgreSQL unguarded."""
    await signed_up_and_in(db, auth, device, "odd@example.com")
    for password in ("\ud800", "pass\x00word", "correct horse \ud800 battery"):
        await check(
            db,
            lambda p=password: accounts.login(
                db, email="odd@example.com", password=p, device=device, auth=auth
            ),
        )
        await check(
            db,
            lambda p=password: accounts.register(
                db, email="new@example.com", password=p, device=device, auth=auth
            ),
        )


async def fingerprint(db: Database) -> dict[str, str]:
    async with db.session() as s:
        return {
            t: await s.scalar(
                text(
                    f"SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {t} x"
                )
            )
            for t in TABLES
        }


async def check(db: Database, call: Callable[[], Awaitable[object]]) -> None:
    before = await fingerprint(db)
    try:
        await call()
    except InvalidInput:
        assert await fingerprint(db) == before
    except ServiceError:
        pass


@pytest.fixture
async def me(db: Database, auth: AuthConfig, device: Device):  # type: ignore[no-untyped-def]
    return await signed_up_and_in(db, auth, device, "prop@example.com")


@SETTINGS
@given(email=texts, password=texts)
async def test_register_and_login(
    db: Database, auth: AuthConfig, device: Device, email: str, password: str
) -> None:
    await check(
        db, lambda: accounts.register(db, email=email, password=password, device=device, auth=auth)
    )
    await check(
        db, lambda: accounts.login(db, email=email, password=password, device=device, auth=auth)
    )
    await check(db, lambda: accounts.refresh(db, password, device=device, auth=auth))
    await check(db, lambda: api_keys.authenticate_api_key(db, password, auth=auth))
    await check(db, lambda: accounts.issue_reset_token(db, SYSTEM, email, auth))


@SETTINGS
@given(a=texts, b=texts)
async def test_signed_in_entry_points(db: Database, auth: AuthConfig, me, a: str, b: str) -> None:  # type: ignore[no-untyped-def]
    actor = me.actor
    await check(db, lambda: accounts.change_password(db, actor, a, b, auth))
    await check(db, lambda: accounts.change_password(db, actor, PASSWORD, b, auth))
    await check(db, lambda: twofactor.confirm_enrolment(db, actor, a, auth))
    await check(db, lambda: twofactor.disable(db, actor, a, b, auth))
    await check(db, lambda: twofactor.regenerate_backup_codes(db, actor, a, b, auth))
    await check(db, lambda: api_keys.create_api_key(db, actor, a, [b], auth=auth))
    await check(db, lambda: api_keys.revoke_api_key(db, actor, a, auth))
    await check(db, lambda: sessions.end_session(db, actor, a, auth))
    await check(db, lambda: sessions.forget_device(db, actor, a, auth))


@SETTINGS
@given(code=texts, new_password=texts)
async def test_challenge_steps(
    db: Database, auth: AuthConfig, device: Device, code: str, new_password: str
) -> None:
    step = accounts.NeedsTwoFactor(
        accounts.Challenge(
            "nobody", "n@example.com", accounts.TWO_FACTOR, "", auth.now(), "n", "s", "sig"
        )
    )
    await check(
        db, lambda: accounts.verify_two_factor(db, step.challenge, code, device=device, auth=auth)
    )
    await check(
        db,
        lambda: accounts.set_new_password(
            db, step.challenge, new_password, device=device, auth=auth
        ),
    )
