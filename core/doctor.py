"""``blockbotx doctor``: health checks that say what is fine and what to fix.

Each check returns a ``Check`` and never raises: a broken part is a row in the report, not a
traceback. Checks that depend on the database are skipped (status "skip") when it is down.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text

from core import logs
from core.config import Settings
from core.db import migrate
from core.db.engine import Database, DatabaseUnavailable, safe_url

log = logging.getLogger(__name__)

MIN_SERVER_MAJOR = 14
CLOCK_WARN_SECONDS = 5.0
CLOCK_FAIL_SECONDS = 30.0  # one TOTP step: codes start failing beyond this


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class DoctorContext:
    settings: Settings
    db: Database | None
    db_ok: bool = False
    exchange_factory: Any = None
    """How ccxt exchanges are made (tests point it at the local fake exchange)."""


CheckFn = Callable[[DoctorContext], Awaitable[list[Check]]]


async def check_database(ctx: DoctorContext) -> list[Check]:
    if ctx.db is None:
        return [Check("database", Status.FAIL, "not configured", "set DATABASE_URL or unset it")]
    try:
        version = await ctx.db.check()
    except DatabaseUnavailable as exc:
        return [Check("database", Status.FAIL, str(exc), "start PostgreSQL or fix DATABASE_URL")]
    ctx.db_ok = True
    major = int(version.split(".")[0])
    where = "embedded" if "host=" in ctx.db.url and not ctx.settings.database_url else "external"
    row = Check("database", Status.OK, f"PostgreSQL {version} ({where}) at {safe_url(ctx.db.url)}")
    if major < MIN_SERVER_MAJOR:
        row = Check(
            "database",
            Status.FAIL,
            f"PostgreSQL {version} is too old",
            "use PostgreSQL 14 or newer",
        )
    current = await migrate.current_revisions(ctx.db)
    heads = migrate.head_revisions()
    if current == heads:
        schema = Check("migrations", Status.OK, f"at {', '.join(sorted(heads))}")
    else:
        schema = Check(
            "migrations",
            Status.FAIL,
            f"at {', '.join(sorted(current)) or 'base'}, latest is {', '.join(sorted(heads))}",
            "run `blockbotx db upgrade`",
        )
    return [row, schema]


async def check_master_key(ctx: DoctorContext) -> list[Check]:
    from core.security import vault

    backend = "none"
    try:
        import keyring

        kind = type(keyring.get_keyring())
        backend = f"{kind.__module__}.{kind.__name__}"
    except Exception as exc:  # a broken keyring install is exactly what doctor should report
        backend = f"unavailable ({exc})"
    try:
        _key, source = vault.load_master_key()
    except Exception as exc:
        return [Check("master key", Status.FAIL, str(exc), "set BLOCKBOTX_MASTER_KEY correctly")]
    if source == "file":
        return [
            Check(
                "master key",
                Status.WARN,
                f"key file {vault.key_file()} (keyring backend: {backend})",
                "keep a backup of the key file, or use a keyring / BLOCKBOTX_MASTER_KEY",
            )
        ]
    return [Check("master key", Status.OK, f"from the {source} (keyring backend: {backend})")]


async def check_clock(ctx: DoctorContext) -> list[Check]:
    if not ctx.db_ok or ctx.db is None:
        return [Check("clock skew", Status.SKIP, "needs the database")]
    async with ctx.db.engine.connect() as conn:
        before = datetime.now(UTC)
        server = await conn.scalar(text("SELECT clock_timestamp()"))
        after = datetime.now(UTC)
    local = before + (after - before) / 2
    skew = abs((server - local).total_seconds())
    detail = f"{skew:.2f} s between this machine and the database server"
    if skew >= CLOCK_FAIL_SECONDS:
        return [Check("clock skew", Status.FAIL, detail, "sync both clocks (NTP): TOTP codes fail")]
    if skew >= CLOCK_WARN_SECONDS:
        return [Check("clock skew", Status.WARN, detail, "sync the clocks with NTP")]
    return [Check("clock skew", Status.OK, detail)]


async def check_log_file(ctx: DoctorContext) -> list[Check]:
    path = logs.log_file()
    if os.access(path.parent, os.W_OK):
        return [Check("log file", Status.OK, str(path))]
    return [Check("log file", Status.FAIL, f"{path.parent} is not writable", "fix its permissions")]


async def check_smtp(ctx: DoctorContext) -> list[Check]:
    s = ctx.settings
    if not s.smtp_host:
        return [Check("email (SMTP)", Status.SKIP, "not configured (smtp_host unset)")]
    import aiosmtplib

    client = aiosmtplib.SMTP(
        hostname=s.smtp_host,
        port=s.smtp_port,
        use_tls=s.smtp_security == "tls",
        start_tls=s.smtp_security == "starttls",
        timeout=s.notification_timeout,
    )
    try:
        await client.connect()
        if s.smtp_username and s.smtp_password:
            await client.login(s.smtp_username, s.smtp_password.get_secret_value())
        await client.quit()
    except Exception as exc:
        return [
            Check(
                "email (SMTP)",
                Status.FAIL,
                f"{s.smtp_host}:{s.smtp_port}: {exc}",
                "check smtp_host, smtp_port, smtp_security and credentials",
            )
        ]
    return [Check("email (SMTP)", Status.OK, f"{s.smtp_host}:{s.smtp_port} accepts us")]


async def check_telegram(ctx: DoctorContext) -> list[Check]:
    s = ctx.settings
    if not s.telegram_bot_token:
        return [Check("telegram", Status.SKIP, "not configured (telegram_bot_token unset)")]
    import aiohttp

    url = f"{s.telegram_api_url.rstrip('/')}/bot{s.telegram_bot_token.get_secret_value()}/getMe"
    try:
        timeout = aiohttp.ClientTimeout(total=s.notification_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as resp:
            body = await resp.json(content_type=None)
    except Exception as exc:
        return [Check("telegram", Status.FAIL, f"{s.telegram_api_url}: {type(exc).__name__}")]
    if not body.get("ok"):
        return [Check("telegram", Status.FAIL, "the bot token was refused", "check the token")]
    name = body.get("result", {}).get("username", "?")
    return [Check("telegram", Status.OK, f"bot @{name}")]


async def check_exchange_connections(ctx: DoctorContext) -> list[Check]:
    """Each active connection: reachable and its keys accepted (read-only call, as its owner)."""
    if not ctx.db_ok or ctx.db is None:
        return [Check("exchanges", Status.SKIP, "needs the database")]
    from sqlalchemy import select

    from core.db.models.trading import ExchangeConnection
    from core.db.models.users import User
    from core.services import exchanges
    from core.services.actor import Actor

    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                select(ExchangeConnection.id, ExchangeConnection.exchange,
                       ExchangeConnection.is_testnet, ExchangeConnection.user_id, User.email)
                .join(User, User.id == ExchangeConnection.user_id)
                .where(ExchangeConnection.is_active.is_(True))
                .order_by(User.email, ExchangeConnection.exchange)
            )
        ).all()  # fmt: skip
    if not rows:
        return [Check("exchanges", Status.SKIP, "no active exchange connections")]
    results = []
    for conn_id, exchange, testnet, user_id, email in rows:
        name = f"{exchange}{' testnet' if testnet else ''} ({email})"
        try:
            outcome = await exchanges.test_connection(
                ctx.db, Actor(user_id=user_id), conn_id, factory=ctx.exchange_factory
            )
        except Exception as exc:  # a broken connection row must not hide the others
            results.append(Check(f"exchange {name}", Status.FAIL, f"{type(exc).__name__}: {exc}"))
            continue
        if outcome.ok:
            results.append(Check(f"exchange {name}", Status.OK, outcome.message))
        else:
            results.append(
                Check(
                    f"exchange {name}",
                    Status.FAIL,
                    outcome.message,
                    "check the keys and their permissions in the Exchanges screen",
                )
            )
    return results


async def check_discord_webhooks(ctx: DoctorContext) -> list[Check]:
    """Users' Discord webhooks: count them and probe each one with a GET (no message posted)."""
    if not ctx.db_ok or ctx.db is None:
        return [Check("discord", Status.SKIP, "needs the database")]
    from sqlalchemy import select

    from core.db.models.notifications import NotificationPreference
    from core.security.vault import VaultError, get_vault

    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                select(NotificationPreference.user_id, NotificationPreference.discord_webhook_url)
                .where(NotificationPreference.discord_enabled.is_(True))
                .where(NotificationPreference.discord_webhook_url.is_not(None))
            )
        ).all()
    if not rows:
        return [Check("discord", Status.SKIP, "no Discord webhooks configured")]
    import aiohttp

    broken = 0
    timeout = aiohttp.ClientTimeout(total=ctx.settings.notification_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for user_id, sealed in rows:
            if sealed is None:  # selected IS NOT NULL
                continue
            try:
                url = get_vault().decrypt(
                    sealed, table="notification_preferences", owner_id=user_id,
                    field="discord_webhook_url",
                )  # fmt: skip
                async with http.get(url) as resp:
                    broken += resp.status >= 400
            except (VaultError, aiohttp.ClientError, TimeoutError, ValueError):
                broken += 1
    if broken:
        return [
            Check(
                "discord",
                Status.WARN,
                f"{broken} of {len(rows)} webhooks unreachable or refused",
                "ask those users to check their webhook URL in notification preferences",
            )
        ]
    return [Check("discord", Status.OK, f"{len(rows)} webhooks answer")]


CHECKS: list[CheckFn] = [
    check_database,
    check_master_key,
    check_clock,
    check_log_file,
    check_smtp,
    check_telegram,
    check_discord_webhooks,
    check_exchange_connections,
]


async def run_checks(ctx: DoctorContext, checks: list[CheckFn] | None = None) -> list[Check]:
    results: list[Check] = []
    for check in checks or CHECKS:
        try:
            results.extend(await asyncio.wait_for(check(ctx), timeout=30))
        except Exception as exc:  # one broken check must not hide the others
            log.exception("doctor check %s failed", check.__name__)
            name = check.__name__.removeprefix("check_").replace("_", " ")
            results.append(Check(name, Status.FAIL, f"{type(exc).__name__}: {exc}"))
    return results
