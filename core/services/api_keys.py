"""API keys (Nexgent): named, scoped keys for programmatic access.

The full key (``bbx_<8 hex>_<43 random characters>``) is returned once at creation; the table
keeps its SHA-256 and the visible prefix ``bbx_<8 hex>`` so a user can tell keys apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core.db.engine import Database
from core.db.models.users import ApiKey, User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.security import tokens
from core.services.actor import Actor, Role, get_owned, owned_by, recheck, require_superadmin
from core.services.audit import audit
from core.services.authconfig import DEFAULT_AUTH, AuthConfig
from core.services.lockout import AuthenticationFailed
from core.services.sessions import check_id

SCOPES = {
    "read": "read bots, trades, balances and signals",
    "trade": "place and cancel orders",
    "bots": "create, start, stop and configure bots",
    "signals": "send trading signals",
}
MAX_NAME = 64
MAX_ACTIVE_KEYS = 20
MAX_EXPIRY_DAYS = 365
INVALID_KEY = "This API key is not valid."


class ScopeMissing(AuthenticationFailed):
    """The key is valid but not for this: an HTTP API answers 403 here, 401 for a bad key."""


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    info: ApiKeyInfo
    key: str = field(repr=False)
    """The full key: shown to the user this once, never stored or logged."""


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        row.id,
        row.name,
        row.key_prefix,
        tuple(row.scopes),
        row.created_at,
        row.last_used_at,
        row.expires_at,
        row.revoked_at,
    )


def _validate(
    name: object, scopes: object, expires_in_days: object
) -> tuple[str, list[str], int | None]:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("Give the key a name.", field="name")
    name = name.strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(
            f"The name must be printable text of at most {MAX_NAME} characters.", field="name"
        )
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple | set | frozenset):
        raise InvalidInput("Choose at least one scope.", field="scopes")
    chosen = sorted({s for s in scopes if isinstance(s, str)})
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen or len(chosen) != len(set(scopes)):
        raise InvalidInput(f"Scopes must be some of: {', '.join(SCOPES)}.", field="scopes")
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS
    ):
        raise InvalidInput(
            f"Expiry must be between 1 and {MAX_EXPIRY_DAYS} days (or none).",
            field="expires_in_days",
        )
    return name, chosen, expires_in_days


async def create_api_key(
    db: Database,
    actor: Actor,
    name: str,
    scopes: list[str] | tuple[str, ...],
    expires_in_days: int | None = None,
    auth: AuthConfig = DEFAULT_AUTH,
) -> CreatedApiKey:
    name, chosen, days = _validate(name, scopes, expires_in_days)
    now = auth.now()
    key, prefix = tokens.new_api_key()
    async with db.session() as s, s.begin():
        active = _active(owned_by(select(ApiKey), ApiKey.user_id, actor), now)
        names = {k.name for k in await s.scalars(active)}
        if name in names:
            raise Conflict(f"You already have an active key named {name!r}.")
        if len(names) >= MAX_ACTIVE_KEYS:
            raise Conflict(f"You can have at most {MAX_ACTIVE_KEYS} active keys; revoke one first.")
        row = ApiKey(
            user_id=actor.user_id,
            name=name,
            key_hash=tokens.hash_token(key),
            key_prefix=prefix,
            scopes=chosen,
            expires_at=now + timedelta(days=days) if days else None,
            created_at=now,
        )
        s.add(row)
        await s.flush()
        await audit(
            s,
            user_id=actor.user_id,
            action="api_key_created",
            at=now,
            ip_address=actor.ip_address,
            details={"key_id": row.id, "prefix": prefix, "name": name, "scopes": chosen},
        )
        return CreatedApiKey(_info(row), key)


def _active(stmt, now: datetime):
    return stmt.where(
        ApiKey.revoked_at.is_(None), (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > now)
    )


async def list_api_keys(db: Database, actor: Actor) -> list[ApiKeyInfo]:
    async with db.session() as s:
        rows = await s.scalars(
            owned_by(select(ApiKey), ApiKey.user_id, actor).order_by(
                ApiKey.created_at.desc(), ApiKey.id
            )
        )
        return [_info(r) for r in rows]


async def revoke_api_key(
    db: Database, actor: Actor, key_id: str, auth: AuthConfig = DEFAULT_AUTH
) -> ApiKeyInfo:
    now = auth.now()
    async with db.session() as s, s.begin():
        key_id = check_id(key_id, "API key")
        row = await get_owned(s, ApiKey, key_id, actor, what="API key", for_update=True)
        if row.revoked_at is not None:
            raise Conflict(f"The key {row.name!r} is already revoked.")
        row.revoked_at = now
        await audit(
            s,
            user_id=actor.user_id,
            action="api_key_revoked",
            at=now,
            ip_address=actor.ip_address,
            details={"key_id": row.id, "prefix": row.key_prefix, "name": row.name},
        )
        return _info(row)


async def authenticate_api_key(
    db: Database, key: str, *, scope: str | None = None, auth: AuthConfig = DEFAULT_AUTH
) -> Actor:
    """The actor a presented key acts as (its ``last_used_at`` updated), or AuthenticationFailed."""
    if not isinstance(key, str) or not key.startswith(tokens.API_KEY_PREFIX) or len(key) > 200:
        raise AuthenticationFailed(INVALID_KEY)
    if scope is not None and scope not in SCOPES:
        raise InvalidInput(f"Unknown scope {scope!r}.", field="scope")
    now = auth.now()
    async with db.session() as s, s.begin():
        row = await s.scalar(
            _active(select(ApiKey).where(ApiKey.key_hash == tokens.hash_token(key)), now)
        )
        if row is None:
            raise AuthenticationFailed(INVALID_KEY)
        try:
            actor = await recheck(s, Actor(user_id=row.user_id), clock=auth.clock)
        except Forbidden:
            raise AuthenticationFailed(
                "The account of this API key can't be used right now."
            ) from None
        if scope is not None and scope not in row.scopes:
            raise ScopeMissing(f"This API key lacks the {scope!r} scope.")
        row.last_used_at = now
        return actor


def _actor_of(user: User) -> Actor:
    role = Role(user.role) if user.role in Role._value2member_map_ else Role.USER
    return Actor(user_id=user.id, role=role)


async def key_owner(db: Database, actor: Actor, key_id: str) -> Actor:
    """For the operator CLI (superadmin): the owner of a key, to act as when revoking it (a
    banned owner's key can still be revoked)."""
    key_id = check_id(key_id, "API key")
    async with db.session() as s:
        await require_superadmin(s, actor)
        user = await s.scalar(
            select(User).join(ApiKey, ApiKey.user_id == User.id).where(ApiKey.id == key_id)
        )
    if user is None:
        raise NotFound(f"No API key {key_id!r}.")
    return _actor_of(user)
