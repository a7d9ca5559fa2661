"""Signal providers (webhook / api / telegram) of the acting user, and what their signals did.

Ownership: a provider belongs to a user (``user_id``) or is a *system* provider (``user_id``
NULL) that administrators manage and every user may read and follow. Another user's provider is
reported exactly like a missing one. Administrators reach other users' providers only when they
ask (``everyone=True``), as the operator CLI does.

Keys: a webhook provider's signing key and a TradingView provider's alert token are generated
here and returned once (``ProviderWithKey.key``; ``secret_path`` is the URL path with the token);
an api provider's key (optional) and a Telegram bot token are given by
the user. Either way the table holds only the vault ciphertext, bound to the provider's id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.signals import Signal, SignalExecution, SignalProvider
from core.db.models.users import User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.ids import new_id
from core.services.actor import (
    SYSTEM,
    Actor,
    Role,
    recheck,
    require_admin,
    require_superadmin,
)
from core.services.audit import audit
from core.services.rows import loaded
from core.services.sessions import check_id
from core.signals import signing
from core.signals.config import (
    GENERATED_KEY_TYPES,
    alert_path,
    check_type,
    stored_config,
    validate_config,
    validate_url,
    webhook_path,
)
from core.signals.ingest import seal_key
from core.signals.tradingview import generate_token

MAX_NAME = 64
MAX_PROVIDERS = 50
MAX_PAGE = 500
_API_KEY = re.compile(r"^[!-~]{1,4096}$")
_BOT_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    id: str
    name: str
    type: str
    url: str | None
    """The webhook path (``/signals/<id>``), a TradingView provider's public path
    (``/tv/<id>``, without its token) or the api endpoint; None for Telegram."""
    config: dict[str, Any]
    is_active: bool
    reliability: Decimal
    owner_id: str | None
    system: bool
    """A system provider (no owner): administrators manage it, every user may follow it."""
    has_key: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProviderWithKey:
    info: ProviderInfo
    key: str | None = field(repr=False)
    """A generated webhook key or alert token: shown to the user this once, never stored in
    clear or logged."""

    @property
    def secret_path(self) -> str | None:
        """The path to post to: a webhook's ``/signals/<id>``, a TradingView provider's
        ``/tv/<id>/<token>`` (shown this once); None for polled providers."""
        if self.info.type == "tradingview":
            return alert_path(self.info.id, self.key)
        return self.info.url if self.info.type == "webhook" else None


def _generate_key(provider_type: str) -> str:
    return generate_token() if provider_type == "tradingview" else signing.generate_key()


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    bot_id: str
    bot_name: str
    status: str
    reason: str | None
    trade_id: str | None
    execution_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignalInfo:
    id: str
    provider_id: str
    symbol: str
    action: str
    price: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    confidence: Decimal | None
    reason: str | None
    metadata: dict[str, Any] | None
    external_id: str | None
    processed: bool
    created_at: datetime
    executions: tuple[ExecutionInfo, ...]
    """How the acting user's bots processed this signal (never other users' bots)."""


def _info(row: SignalProvider) -> ProviderInfo:
    return ProviderInfo(
        id=row.id,
        name=row.name,
        type=row.type,
        url=row.url,
        config=dict(row.config or {}),
        is_active=row.is_active,
        reliability=row.reliability,
        owner_id=row.user_id,
        system=row.user_id is None,
        has_key=row.api_key is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("Give the provider a name.", field="name")
    name = name.strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(
            f"The name must be printable text of at most {MAX_NAME} characters.", field="name"
        )
    return name


def _check_key(provider_type: str, key: object) -> str | None:
    """A user-given key: optional for api providers, a bot token for Telegram; none for webhook
    and TradingView providers, whose keys are generated."""
    if provider_type in GENERATED_KEY_TYPES:
        if key is not None:
            raise InvalidInput(
                f"A {provider_type} provider's key is generated, not given.", field="api_key"
            )
        return None
    if key is None or key == "":
        if provider_type == "telegram":
            raise InvalidInput("A Telegram provider needs its bot's token.", field="api_key")
        return None
    if provider_type == "telegram":
        if not isinstance(key, str) or not _BOT_TOKEN.match(key.strip()):
            raise InvalidInput(
                "A bot token looks like 123456789:AAE… (digits, a colon, 20+ letters).",
                field="api_key",
            )
        return key.strip()
    if not isinstance(key, str) or not _API_KEY.match(key.strip()):
        raise InvalidInput(
            "The API key must be up to 4096 printable characters without spaces.",
            field="api_key",
        )
    return key.strip()


def _public_path(provider_type: str, provider_id: str, url: str | None) -> str | None:
    if provider_type == "webhook":
        return webhook_path(provider_id)
    return alert_path(provider_id) if provider_type == "tradingview" else url


async def _visible(
    session: AsyncSession, stmt: Select[Any], actor: Actor, everyone: bool
) -> Select[Any]:
    if everyone:
        await require_admin(session, actor)
        return stmt
    return stmt.where(
        or_(SignalProvider.user_id == actor.user_id, SignalProvider.user_id.is_(None))
    )


async def _load(
    session: AsyncSession,
    actor: Actor,
    provider_id: object,
    *,
    write: bool = False,
    everyone: bool = False,
) -> SignalProvider:
    """The provider if the actor may see it (and change it, with ``write``); else NotFound."""
    provider_id = check_id(provider_id, "signal provider")
    stmt = await _visible(
        session, select(SignalProvider).where(SignalProvider.id == provider_id), actor, everyone
    )
    if write:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(f"No signal provider {provider_id!r}.")
    if write and row.user_id is None and not (await recheck(session, actor)).is_admin:
        raise Forbidden("Only an administrator can change a system provider.")
    return row


async def _audit(
    session: AsyncSession, actor: Actor, action: str, at: datetime, **details: Any
) -> None:
    if actor.user_id != SYSTEM.user_id:  # the system actor is not a user row
        await audit(
            session,
            user_id=actor.user_id,
            action=action,
            at=at,
            ip_address=actor.ip_address,
            details=details,
        )


async def create_provider(
    db: Database,
    actor: Actor,
    *,
    name: str,
    type: str,
    config: dict[str, Any] | None = None,
    url: str | None = None,
    api_key: str | None = None,
    system: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> ProviderWithKey:
    """A new provider of the actor (or a system provider, for an administrator)."""
    provider_type = check_type(type)
    name = _check_name(name)
    settings = stored_config(validate_config(provider_type, config))
    given_key = _check_key(provider_type, api_key)
    if provider_type == "api":
        url = validate_url(url)
    elif url is not None:
        raise InvalidInput(f"A {provider_type} provider has no URL to set.", field="url")
    owner = None if system else actor.user_id
    provider_id = new_id()
    generated = provider_type in GENERATED_KEY_TYPES
    key = _generate_key(provider_type) if generated else given_key
    now = clock.now()
    async with db.sessions.begin() as session:
        if system:
            await require_admin(session, actor)
        owned = select(SignalProvider.name).where(
            SignalProvider.user_id.is_(None) if owner is None else SignalProvider.user_id == owner
        )
        names = set(await session.scalars(owned))
        if name in names:
            raise Conflict(f"There is already a signal provider named {name!r}.")
        if owner is not None and len(names) >= MAX_PROVIDERS:
            raise Conflict(f"You can have at most {MAX_PROVIDERS} signal providers.")
        row = SignalProvider(
            id=provider_id,
            user_id=owner,
            name=name,
            type=provider_type,
            url=_public_path(provider_type, provider_id, url),
            api_key=seal_key(provider_id, key) if key else None,
            config=settings,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await loaded(session, row)
        await _audit(
            session, actor, "signal_provider_created", now, provider_id=provider_id, name=name
        )
        info = _info(row)
    return ProviderWithKey(info, key if generated else None)


async def list_providers(
    db: Database, actor: Actor, *, everyone: bool = False
) -> list[ProviderInfo]:
    """The actor's providers and the system providers (every provider with ``everyone``)."""
    async with db.session() as session:
        rows = await session.scalars(
            (await _visible(session, select(SignalProvider), actor, everyone)).order_by(
                SignalProvider.name, SignalProvider.id
            )
        )
        return [_info(r) for r in rows]


async def get_provider(
    db: Database, actor: Actor, provider_id: str, *, everyone: bool = False
) -> ProviderInfo:
    async with db.session() as session:
        return _info(await _load(session, actor, provider_id, everyone=everyone))


async def update_provider(
    db: Database,
    actor: Actor,
    provider_id: str,
    *,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    url: str | None = None,
    everyone: bool = False,
) -> ProviderInfo:
    """Rename, change settings (validated for the provider's type) or an api provider's URL."""
    async with db.sessions.begin() as session:
        row = await _load(session, actor, provider_id, write=True, everyone=everyone)
        if name is not None:
            name = _check_name(name)
            clash = await session.scalar(
                select(func.count())
                .select_from(SignalProvider)
                .where(
                    SignalProvider.name == name,
                    SignalProvider.id != row.id,
                    SignalProvider.user_id.is_(None)
                    if row.user_id is None
                    else SignalProvider.user_id == row.user_id,
                )
            )
            if clash:
                raise Conflict(f"There is already a signal provider named {name!r}.")
            row.name = name
        if config is not None:
            row.config = stored_config(validate_config(row.type, config))
        if url is not None:
            if row.type != "api":
                raise InvalidInput(f"A {row.type} provider has no URL to set.", field="url")
            row.url = validate_url(url)
        return _info(await loaded(session, row))


async def set_provider_active(
    db: Database, actor: Actor, provider_id: str, active: bool, *, everyone: bool = False
) -> ProviderInfo:
    """Disable (its webhook answers 403, it is not polled) or enable a provider."""
    async with db.sessions.begin() as session:
        row = await _load(session, actor, provider_id, write=True, everyone=everyone)
        row.is_active = bool(active)
        return _info(await loaded(session, row))


async def rotate_provider_key(
    db: Database,
    actor: Actor,
    provider_id: str,
    new_key: str | None = None,
    *,
    everyone: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> ProviderWithKey:
    """A webhook or TradingView provider gets a new generated key (returned once; the old one
    stops working at once); an api or Telegram provider gets the key the user gives."""
    async with db.sessions.begin() as session:
        row = await _load(session, actor, provider_id, write=True, everyone=everyone)
        generated = row.type in GENERATED_KEY_TYPES
        key: str | None = _check_key(row.type, new_key)
        if generated:
            key = _generate_key(row.type)
        row.api_key = seal_key(row.id, key) if key else None
        await _audit(session, actor, "signal_provider_key_rotated", clock.now(), provider_id=row.id)
        info = _info(await loaded(session, row))
    return ProviderWithKey(info, key if generated else None)


async def delete_provider(
    db: Database,
    actor: Actor,
    provider_id: str,
    *,
    everyone: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Delete a provider with its signals; refused while a bot follows it."""
    async with db.sessions.begin() as session:
        row = await _load(session, actor, provider_id, write=True, everyone=everyone)
        followers = await session.scalar(
            select(func.count())
            .select_from(Bot)
            .where(Bot.type == "signal", Bot.config["provider_id"].astext == row.id)
        )
        if followers:
            raise Conflict(
                f"{followers} bot(s) follow {row.name!r}: point them at another provider or "
                "disable this one instead."
            )
        await _audit(
            session,
            actor,
            "signal_provider_deleted",
            clock.now(),
            provider_id=row.id,
            name=row.name,
        )
        await session.delete(row)


async def followable_provider(
    session: AsyncSession, actor: Actor, provider_id: str
) -> ProviderInfo:
    """For the bot service: a provider the actor's signal bot may follow (own or system)."""
    return _info(await _load(session, actor, provider_id))


async def recent_signals(
    db: Database,
    actor: Actor,
    provider_id: str,
    *,
    limit: int = 50,
    before: str | None = None,
    everyone: bool = False,
) -> list[SignalInfo]:
    """The provider's signals, newest first, ``limit`` at a time; ``before`` is the last signal
    id of the previous page. Each carries how the actor's own bots processed it."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"The page size must be between 1 and {MAX_PAGE}.", field="limit")
    async with db.session() as session:
        row = await _load(session, actor, provider_id, everyone=everyone)
        stmt = select(Signal).where(Signal.provider_id == row.id)
        if before is not None:
            cursor = await session.scalar(
                select(Signal.created_at).where(
                    Signal.id == check_id(before, "signal"), Signal.provider_id == row.id
                )
            )
            if cursor is None:
                raise NotFound(f"No signal {before!r} from this provider.")
            stmt = stmt.where(
                or_(
                    Signal.created_at < cursor,
                    (Signal.created_at == cursor) & (Signal.id < before),
                )
            )
        signals = list(
            await session.scalars(
                stmt.order_by(Signal.created_at.desc(), Signal.id.desc()).limit(limit)
            )
        )
        executions = await _executions(session, actor, [s.id for s in signals])
        return [
            SignalInfo(
                id=s.id,
                provider_id=s.provider_id,
                symbol=s.symbol,
                action=s.action,
                price=s.price,
                stop_loss=s.stop_loss,
                take_profit=s.take_profit,
                confidence=s.confidence,
                reason=s.reason,
                metadata=s.metadata_,
                external_id=s.external_id,
                processed=s.processed,
                created_at=s.created_at,
                executions=tuple(executions.get(s.id, ())),
            )
            for s in signals
        ]


async def _executions(
    session: AsyncSession, actor: Actor, signal_ids: Sequence[str]
) -> dict[str, list[ExecutionInfo]]:
    if not signal_ids:
        return {}
    rows = await session.execute(
        select(SignalExecution, Bot.name)
        .join(Bot, Bot.id == SignalExecution.bot_id)
        .where(SignalExecution.signal_id.in_(signal_ids), Bot.user_id == actor.user_id)
        .order_by(SignalExecution.created_at, SignalExecution.id)
    )
    found: dict[str, list[ExecutionInfo]] = {}
    for execution, bot_name in rows.all():
        found.setdefault(execution.signal_id, []).append(
            ExecutionInfo(
                bot_id=execution.bot_id,
                bot_name=bot_name,
                status=execution.status,
                reason=execution.reason,
                trade_id=execution.trade_id,
                execution_id=execution.execution_id,
                created_at=execution.created_at,
            )
        )
    return found


async def user_actor(db: Database, actor: Actor, email: str) -> Actor:
    """For the operator CLI (superadmin): act as the user with this email."""
    async with db.session() as session:
        await require_superadmin(session, actor)
        if not isinstance(email, str) or not email.strip():
            raise InvalidInput("Give the user's email.", field="email")
        if "\x00" in email:
            raise NotFound(f"No user {email.strip()!r}.")
        user = await session.scalar(
            select(User).where(func.lower(User.email) == email.strip().lower())
        )
    if user is None:
        raise NotFound(f"No user {email.strip()!r}.")
    return Actor(user_id=user.id, role=Role.of(user.role))
