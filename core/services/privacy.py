"""Privacy settings and personal data exports.

An export (``data_exports``: trades, bots, settings, profile or all) is written as one CSV per
table in a zip, or as one JSON document, into ``<data dir>/exports/<user id>/`` (directory 0700,
file 0600); the row is marked completed with the file's path and an expiry seven days later.

Secrets never leave: columns known to hold them (password hashes, TOTP secrets and backup
codes, reset/verification/refresh tokens, API key hashes, vault ciphertexts of exchange and
wallet keys, the Discord webhook URL) are left out by name, any column whose *name* looks
secret is left out too, and any *value* in vault ciphertext form is replaced — so a column added
later can't leak by accident.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import paths
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models import metadata
from core.db.models.users import DataExport, PrivacySettings, User
from core.errors import Forbidden, InvalidInput, NotFound
from core.figures import exact
from core.services.actor import Actor, recheck
from core.services.audit import audit
from core.services.rows import loaded
from core.services.validation import parse

EXPORT_LIFETIME = timedelta(days=7)
FORMATS = ("csv", "json")

# --- privacy settings ----------------------------------------------------------------------


class PrivacyView(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    profile_visibility: str = "private"
    show_email: bool = False
    show_phone: bool = False
    allow_messages_from: str = "contacts"
    data_usage_consent: bool = False
    marketing_emails_consent: bool = False
    third_party_data_sharing: bool = False


class PrivacyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_visibility: Literal["public", "private", "friends"] | None = None
    show_email: bool | None = None
    show_phone: bool | None = None
    allow_messages_from: Literal["everyone", "contacts", "nobody"] | None = None
    data_usage_consent: bool | None = None
    marketing_emails_consent: bool | None = None
    third_party_data_sharing: bool | None = None


async def _privacy_row(session: AsyncSession, user_id: str) -> PrivacySettings | None:
    return await session.scalar(
        select(PrivacySettings).where(PrivacySettings.user_id == user_id).with_for_update()
    )


async def get_privacy_settings(session: AsyncSession, actor: Actor) -> PrivacyView:
    row = await _privacy_row(session, actor.user_id)
    return PrivacyView() if row is None else PrivacyView.model_validate(row)


async def update_privacy_settings(
    session: AsyncSession, actor: Actor, changes: PrivacyUpdate | dict[str, Any]
) -> PrivacyView:
    given = parse(PrivacyUpdate, changes).model_dump(exclude_unset=True)
    if any(v is None for v in given.values()):
        raise InvalidInput("A privacy setting can't be empty.")
    row = await _privacy_row(session, actor.user_id)
    if row is None:
        row = PrivacySettings(user_id=actor.user_id, **PrivacyView().model_dump())
        session.add(row)
    for name, value in given.items():
        setattr(row, name, value)
    return PrivacyView.model_validate(await loaded(session, row))


# --- what an export holds -------------------------------------------------------------------

SECRET_COLUMNS = {
    "users": {
        "password",
        "two_factor_secret",
        "two_factor_backup_codes",
        "email_verification_token",
        "reset_password_token",
    },
    "two_factor_auth": {"secret", "backup_codes", "last_used_step"},
    "sessions": {"refresh_token"},
    "api_keys": {"key_hash"},
    "exchange_connections": {"encrypted_api_key", "encrypted_secret_key", "encrypted_passphrase"},
    "wallets": {"encrypted_key"},
    "notification_preferences": {"discord_webhook_url"},
    "signal_providers": {"api_key"},
}
_SECRET_NAME = re.compile(
    r"password|secret|encrypted|key_hash|code_hash|backup_codes|webhook|api_key$|(^|_)(refresh|reset|verification|access)_token"
)
_VAULT_VALUE = re.compile(r"^v\d+:[0-9a-f]{8}:")
REDACTED = "[secret withheld]"

_PROFILE = (
    "users",
    "privacy_settings",
    "known_devices",
    "login_history",
    "sessions",
    "api_keys",
    "two_factor_auth",
    "audit_logs",
    "security_logs",
    "admin_notes",
)
_SETTINGS = (
    "notification_preferences",
    "privacy_settings",
    "exchange_connections",
    "fee_tiers",
    "wallets",
    "signal_providers",
    "telegram_links",
)
_BOTS = (
    "bots",
    "bot_wallets",
    "bot_balances",
    "bot_balance_snapshots",
    "positions",
    "executions",
    "bot_executions",
    "performance_snapshots",
    "execution_daily",
    "backtests",
    "optimizations",
    "cash_flows",
    "pump_detections",
    "signal_executions",
)
_TRADES = ("trades", "orders", "positions", "portfolio_history")
_REST = (
    "notifications", "support_tickets", "ticket_messages", "staking_positions", "farm_positions",
    "liquidity_positions", "subscriptions", "subscription_history", "payments", "referrals",
    "analytics", "strategies", "strategy_purchases", "strategy_reviews", "bot_templates",
    "template_deployments", "data_exports", "signals",
)  # fmt: skip
"""Every table holding the user's personal data is in ``all`` (docs/admin.md lists them; a test
fails when a table with a user column is in none): ``admin_notes`` are the notes staff wrote
*about* the user, ``signals`` those the user's own providers received."""
EXPORT_TYPES: dict[str, tuple[str, ...]] = {
    "trades": _TRADES,
    "bots": _BOTS,
    "settings": _SETTINGS,
    "profile": _PROFILE,
    "all": tuple(dict.fromkeys(_PROFILE + _SETTINGS + _BOTS + _TRADES + _REST)),
}


def _t(name: str) -> Table:
    return metadata.tables[name]


def _owner(name: str, uid: str) -> ColumnElement[bool]:
    """Rows of ``name`` that belong to user ``uid``."""
    t = _t(name)
    own_bots = select(_t("bots").c.id).where(_t("bots").c.user_id == uid)
    special: dict[str, Callable[[], ColumnElement[bool]]] = {
        "users": lambda: t.c.id == uid,
        "referrals": lambda: or_(t.c.referrer_id == uid, t.c.referred_id == uid),
        "strategies": lambda: t.c.creator_id == uid,
        "ticket_messages": lambda: t.c.ticket_id.in_(
            select(_t("support_tickets").c.id).where(_t("support_tickets").c.user_id == uid)
        ),
        "subscription_history": lambda: t.c.subscription_id.in_(
            select(_t("subscriptions").c.id).where(_t("subscriptions").c.user_id == uid)
        ),
        "bot_balances": lambda: t.c.wallet_id.in_(
            select(_t("bot_wallets").c.id).where(_t("bot_wallets").c.bot_id.in_(own_bots))
        ),
        "bot_balance_snapshots": lambda: t.c.wallet_id.in_(
            select(_t("bot_wallets").c.id).where(_t("bot_wallets").c.bot_id.in_(own_bots))
        ),
        "signals": lambda: t.c.provider_id.in_(
            select(_t("signal_providers").c.id).where(_t("signal_providers").c.user_id == uid)
        ),
    }
    if name in special:
        return special[name]()
    if "user_id" in t.c:
        return t.c.user_id == uid
    if "bot_id" in t.c:
        return t.c.bot_id.in_(own_bots)
    if "wallet_id" in t.c:  # DeFi positions
        return t.c.wallet_id.in_(select(_t("wallets").c.id).where(_t("wallets").c.user_id == uid))
    raise AssertionError(f"no ownership rule for {name}")


def exported_columns(name: str) -> list[str]:
    hidden = SECRET_COLUMNS.get(name, set())
    return [
        c.name for c in _t(name).columns if c.name not in hidden and not _SECRET_NAME.search(c.name)
    ]


def _plain(value: Any) -> Any:
    """JSON-safe and exact: Decimal and datetimes as strings, vault ciphertexts withheld."""
    if isinstance(value, str):
        return REDACTED if _VAULT_VALUE.match(value) else value
    if isinstance(value, Decimal):
        return exact(value)  # exact, without the column's 30-decimal trailing zeros
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


Progress = Callable[[int, int], None]
"""Told ``(tables done, tables in all)`` as an export is collected."""


async def collect(
    session: AsyncSession, user_id: str, export_type: str, *, progress: Progress | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every exported table's rows for ``user_id``, secrets left out."""
    tables: dict[str, list[dict[str, Any]]] = {}
    names = [n for n in EXPORT_TYPES[export_type] if n in metadata.tables]
    for done, name in enumerate(names):
        if progress is not None:
            progress(done, len(names))
        cols = exported_columns(name)
        t = _t(name)
        order = [t.c.created_at] if "created_at" in t.c else []
        rows = await session.execute(
            select(*(t.c[c] for c in cols)).where(_owner(name, user_id)).order_by(*order, t.c.id)
        )
        tables[name] = [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]
    if progress is not None:
        progress(len(names), len(names))
    return tables


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ""
            if row[c] is None
            else json.dumps(row[c])
            if isinstance(row[c], dict | list)
            else row[c]
            for c in columns
        )
    return out.getvalue()


def _write(
    path: Path, fmt: str, meta: dict[str, Any], tables: dict[str, list[dict[str, Any]]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_suffix(path.suffix + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        if fmt == "json":
            fh.write(json.dumps({"export": meta, "tables": tables}, indent=2).encode())
        else:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("export.json", json.dumps(meta, indent=2))
                for name, rows in tables.items():
                    zf.writestr(f"{name}.csv", _csv(rows, exported_columns(name)))
    tmp.replace(path)  # readers never see half a file


# --- exports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportView:
    id: str
    user_id: str
    export_type: str
    status: str
    file_url: str | None
    expires_at: datetime | None
    created_at: datetime


def _export_view(row: DataExport) -> ExportView:
    return ExportView(
        row.id,
        row.user_id,
        row.export_type,
        row.status,
        row.file_url,
        row.expires_at,
        row.created_at,
    )


def export_dir(user_id: str) -> Path:
    return paths.data_dir() / "exports" / user_id


async def request_export(
    db: Database,
    actor: Actor,
    export_type: str,
    *,
    fmt: str = "csv",
    for_user_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    progress: Progress | None = None,
) -> ExportView:
    """Export the actor's data (admins may export another user's, e.g. for a GDPR request);
    ``progress`` hears how many of the export's tables have been read."""
    if export_type not in EXPORT_TYPES:
        raise InvalidInput(
            f"export_type must be one of {', '.join(EXPORT_TYPES)}.", field="export_type"
        )
    if fmt not in FORMATS:
        raise InvalidInput("format must be csv (a zip of CSV files) or json.", field="format")
    subject = for_user_id or actor.user_id
    now = clock.now()
    async with db.sessions.begin() as session:
        actor = await recheck(session, actor)
        if subject != actor.user_id and not actor.is_admin:
            raise Forbidden("Only an administrator can export another user's data.")
        if await session.get(User, subject) is None:
            raise NotFound(f"No user {subject!r}.")
        row = DataExport(
            user_id=subject, export_type=export_type, status="processing", created_at=now
        )
        session.add(row)
        await session.flush()
        export_id = row.id
        if subject != actor.user_id:
            await audit(session, user_id=actor.user_id, action="admin_data_exported", at=now,
                        ip_address=actor.ip_address, details={"target_user_id": subject, "export_id": export_id, "type": export_type})  # fmt: skip
    try:
        async with db.session() as session:
            tables = await collect(session, subject, export_type, progress=progress)
        path = (
            export_dir(subject)
            / f"{now:%Y%m%dT%H%M%SZ}-{export_type}-{export_id}.{'zip' if fmt == 'csv' else 'json'}"
        )
        meta = {
            "user_id": subject,
            "type": export_type,
            "format": fmt,
            "created_at": now.isoformat(),
            "tables": sorted(tables),
        }
        await asyncio.to_thread(_write, path, fmt, meta, tables)
    except Exception:
        async with db.sessions.begin() as session:
            failed = await session.get(DataExport, export_id)
            assert failed is not None
            failed.status = "failed"
        raise
    async with db.sessions.begin() as session:
        done = await session.get(DataExport, export_id)
        assert done is not None
        done.status, done.file_url, done.expires_at = "completed", str(path), now + EXPORT_LIFETIME
        return _export_view(await loaded(session, done))


async def list_exports(session: AsyncSession, actor: Actor) -> list[ExportView]:
    rows = await session.scalars(
        select(DataExport)
        .where(DataExport.user_id == actor.user_id)
        .order_by(DataExport.created_at.desc(), DataExport.id)
    )
    return [_export_view(r) for r in rows]


async def purge_expired_exports(db: Database, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Delete expired export files and their rows; returns how many went."""
    async with db.sessions.begin() as session:
        rows = list(await session.scalars(
            select(DataExport).where(DataExport.expires_at <= clock.now()).with_for_update(skip_locked=True)
        ))  # fmt: skip
        for row in rows:
            if row.file_url:
                Path(row.file_url).unlink(missing_ok=True)
            await session.delete(row)
    return len(rows)
