"""``blockbotx api-key create|list|revoke``: an operator's API keys for a user (the Security
screen keeps its own). The operator acts as the system, on behalf of the user named by email;
a new key is printed once, alone on the last line of standard output."""

from __future__ import annotations

import json

import click

from core.clock import SYSTEM_CLOCK
from core.db.engine import Database
from core.errors import ServiceError
from core.services import api_keys
from core.services.actor import SYSTEM
from core.services.signals import user_actor
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("api-key")
def api_key_group() -> None:
    """API keys for the REST API: create, list, revoke."""
    setup_logging()


def _row(info: api_keys.ApiKeyInfo) -> dict[str, object]:
    now = SYSTEM_CLOCK.now()
    return {
        "id": info.id,
        "name": info.name,
        "prefix": info.prefix,
        "scopes": list(info.scopes),
        "created_at": info.created_at.isoformat(),
        "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None,
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
        "active": info.active(now),
    }


@api_key_group.command("create")
@click.option("--user", "email", required=True, help="The owner's email.")
@click.option(
    "--scopes",
    required=True,
    help=f"Comma-separated, some of: {', '.join(api_keys.SCOPES)}.",
)
@click.option("--name", help="A name to tell the key apart (default: cli and the time).")
@click.option(
    "--expires",
    "days",
    type=int,
    help=f"Days until it expires (1-{api_keys.MAX_EXPIRY_DAYS}; default: never).",
)
def create(email: str, scopes: str, name: str | None, days: int | None) -> None:
    """Create a key for a user; the key is printed once, alone on the last line."""
    chosen = [s.strip() for s in scopes.split(",") if s.strip()]
    label = name if name is not None else f"cli {SYSTEM_CLOCK.now():%Y-%m-%d %H:%M:%S}"

    async def _go(db: Database) -> None:
        try:
            actor = await user_actor(db, SYSTEM, email)
            created = await api_keys.create_api_key(db, actor, label, chosen, days)
        except ServiceError as exc:
            fail(str(exc))
        info = created.info
        expiry = f", expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else ""
        click.echo(
            f"Created key {info.id} ({info.name!r}, scopes {', '.join(info.scopes)}{expiry}). "
            "It is shown once; store it now:"
        )
        click.echo(created.key)

    run_with_db(_go)


@api_key_group.command("list")
@click.option("--user", "email", required=True, help="The owner's email.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def list_(email: str, as_json: bool) -> None:
    """List a user's keys (prefixes only: a key can't be read back)."""

    async def _go(db: Database) -> None:
        try:
            rows = await api_keys.list_api_keys(db, await user_actor(db, SYSTEM, email))
        except ServiceError as exc:
            fail(str(exc))
        if as_json:
            click.echo(json.dumps([_row(r) for r in rows], indent=2))
            return
        if not rows:
            console.print("No API keys.", highlight=False)
            return
        now = SYSTEM_CLOCK.now()
        for r in rows:
            state = "active" if r.active(now) else ("revoked" if r.revoked_at else "expired")
            used = f"{r.last_used_at:%Y-%m-%d %H:%M} UTC" if r.last_used_at else "never"
            click.echo(
                f"{r.id}  {r.prefix}  {','.join(r.scopes)}  {state}  last used {used}  {r.name}"
            )

    run_with_db(_go)


@api_key_group.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key by its id (see `api-key list`); it stops working at once."""

    async def _go(db: Database) -> None:
        try:
            owner = await api_keys.key_owner(db, SYSTEM, key_id)
            info = await api_keys.revoke_api_key(db, owner, key_id)
        except ServiceError as exc:
            fail(str(exc))
        click.echo(f"Revoked key {info.id} ({info.prefix}, {info.name!r}).")

    run_with_db(_go)
