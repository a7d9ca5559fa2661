"""Exchange connections: add, list, test, enable/disable, testnet/real, relabel and remove, on
any exchange of ``core.market.exchange_list`` whose keys are a key, a secret and a passphrase at
most (each asked for only where that exchange requires it).

Keys are encrypted by the vault (bound to the owner and the field) before they reach the
database and decrypted only to make a call; after entry a key is only ever shown masked (its
first 4 characters). Permissions are ``read`` and ``trade`` only: BlockbotX never asks for,
stores or uses withdrawal rights. Every function takes the acting user and finds connections
through ``user_id``, so another user's connection is reported exactly like a missing one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.exc import IntegrityError

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.connections import (
    TABLE,
    credentials,
    load_connection,
    mark_connection_used,
    open_exchange,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import ExchangeConnection, Order, Position
from core.errors import Conflict, InvalidInput, ServiceError
from core.ledger.wallets import MANUAL_BOT_TYPE
from core.market.ccxt_client import ExchangeFactory
from core.market.errors import venue_name
from core.market.exchange_list import ExchangeSpec, exchange_spec, search_exchanges
from core.security.vault import VaultError, get_vault
from core.services.actor import Actor

log = logging.getLogger(__name__)

PERMISSIONS = ("read", "trade")
KEYS_UNREADABLE = (
    "The stored keys of this connection can't be decrypted (the master key is not the one "
    "they were saved with); ask the operator to check the master key, or remove the "
    "connection and add the keys again."
)
TEST_TIMEOUT_SECONDS = 10.0
_KEY = re.compile(r"^[\x21-\x7e]{8,512}$")  # printable ASCII, no spaces
_UNSET = object()


@dataclass(frozen=True, slots=True)
class ConnectionView:
    id: str
    exchange: str
    venue: str
    label: str | None
    is_active: bool
    is_testnet: bool
    permissions: tuple[str, ...]
    api_key_masked: str
    has_passphrase: bool
    last_used: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectionTest:
    ok: bool
    message: str
    balances: tuple[tuple[str, Decimal], ...] = ()


def available_exchanges(search: str = "") -> list[ExchangeSpec]:
    """Every exchange BlockbotX can trade on (public information: no user needed), by name,
    narrowed to those whose id or name contains ``search``."""
    return search_exchanges(search)


def mask(key: str) -> str:
    """Only the first 4 characters of a key are ever shown again."""
    return f"{key[:4]}{'•' * 8}"


def _view(row: ExchangeConnection) -> ConnectionView:
    api_key = credentials(row).api_key
    return ConnectionView(
        id=row.id,
        exchange=row.exchange,
        venue=venue_name(row.exchange, testnet=row.is_testnet),
        label=row.label,
        is_active=row.is_active,
        is_testnet=row.is_testnet,
        permissions=tuple(row.permissions or ()),
        api_key_masked=mask(api_key),
        has_passphrase=row.encrypted_passphrase is not None,
        last_used=row.last_used,
        created_at=row.created_at,
    )


def _secret(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not _KEY.match(text):
        raise InvalidInput(
            f"The {what} must be 8 to 512 printable characters without spaces.", field=field
        )
    return text


def _permissions(values: Sequence[str]) -> list[str]:
    chosen = {v.strip().lower() for v in values}
    if "withdraw" in chosen:
        raise InvalidInput(
            "BlockbotX never uses withdrawal rights: create the API key without them and "
            "choose read or trade.",
            field="permissions",
        )
    unknown = chosen - set(PERMISSIONS)
    if unknown:
        raise InvalidInput(
            f"Unknown permission {sorted(unknown)[0]!r}; choose read and/or trade.",
            field="permissions",
        )
    # Trading needs to read balances and orders too.
    return [p for p in PERMISSIONS if p in chosen or (p == "read" and "trade" in chosen)] or [
        "read"
    ]


def _label(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    label = value.strip()
    if len(label) > 64:
        raise InvalidInput("A label is at most 64 characters.", field="label")
    return label


async def add_connection(
    db: Database,
    actor: Actor,
    *,
    exchange: str,
    api_key: str,
    secret: str,
    passphrase: str | None = None,
    testnet: bool = False,
    permissions: Sequence[str] = ("read",),
    label: str | None = None,
) -> ConnectionView:
    spec = exchange_spec(exchange)
    exchange = spec.id
    if not spec.connectable:
        raise InvalidInput(
            f"{spec.name} signs in with {', '.join(spec.credential_labels())}; BlockbotX "
            "connections hold an API key, a secret and a passphrase only. Its public prices "
            "work for paper trading.",
            field="exchange",
        )
    if testnet and not spec.sandbox:
        raise InvalidInput(f"{spec.name} has no testnet (sandbox).", field="testnet")
    key = _secret(api_key, "api_key", "API key")
    if spec.needs_secret:
        secret_key = _secret(secret, "secret", "API secret")
    elif secret:
        raise InvalidInput(f"{spec.name} keys have no secret.", field="secret")
    else:
        secret_key = ""
    if spec.needs_passphrase:
        phrase: str | None = _secret(passphrase, "passphrase", f"{spec.name} passphrase")
    elif passphrase:
        raise InvalidInput(f"{spec.name} keys have no passphrase.", field="passphrase")
    else:
        phrase = None
    vault = get_vault()

    def seal(plain: str, field: str) -> str:
        return vault.encrypt(plain, table=TABLE, owner_id=actor.user_id, field=field)

    row = ExchangeConnection(
        user_id=actor.user_id,
        exchange=exchange,
        encrypted_api_key=seal(key, "api_key"),
        encrypted_secret_key=seal(secret_key, "secret_key"),
        encrypted_passphrase=seal(phrase, "passphrase") if phrase else None,
        is_active=True,
        is_testnet=bool(testnet),
        permissions=_permissions(permissions),
        label=_label(label),
    )
    async with db.session() as session:
        existing = await session.scalar(
            select(ExchangeConnection.id).where(
                ExchangeConnection.user_id == actor.user_id, ExchangeConnection.exchange == exchange
            )
        )
        if existing:
            raise Conflict(
                f"You already have a {venue_name(exchange)} connection; remove it before adding another."
            )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            raise Conflict(f"You already have a {venue_name(exchange)} connection.") from None
        return _view(row)


async def list_connections(db: Database, actor: Actor) -> list[ConnectionView]:
    async with db.session() as session:
        rows = await session.scalars(
            select(ExchangeConnection)
            .where(ExchangeConnection.user_id == actor.user_id)
            .order_by(ExchangeConnection.exchange)
        )
        return [_view(row) for row in rows]


async def get_connection(db: Database, actor: Actor, connection_id: str) -> ConnectionView:
    async with db.session() as session:
        return _view(await load_connection(session, connection_id, owner_id=actor.user_id))


async def update_connection(
    db: Database,
    actor: Actor,
    connection_id: str,
    *,
    label: str | object | None = _UNSET,
    permissions: Sequence[str] | None = None,
) -> ConnectionView:
    async with db.session() as session:
        row = await load_connection(session, connection_id, owner_id=actor.user_id)
        if label is not _UNSET:
            row.label = _label(label)  # type: ignore[arg-type]
        if permissions is not None:
            row.permissions = _permissions(permissions)
        await session.commit()
        return _view(row)


async def set_testnet(
    db: Database, actor: Actor, connection_id: str, testnet: bool
) -> ConnectionView:
    """Point the connection at the exchange's sandbox or at the real exchange.

    Refused while anything lives on the venue it points at now: a live bot running or paused,
    an open position or a resting order (a bot's or a manual one) — they belong to the venue
    they were made on. Sandbox keys rarely work on the real exchange (and the reverse), so the
    caller should test the connection again.
    """
    async with db.session() as session:
        row = await load_connection(session, connection_id, owner_id=actor.user_id)
        if row.is_testnet == bool(testnet):
            return _view(row)
        busy = (
            await session.execute(
                select(Bot.name, Bot.type)
                .join(BotWallet, BotWallet.bot_id == Bot.id)
                .where(BotWallet.exchange_connection_id == row.id)
                .where(
                    or_(
                        Bot.status.in_(("active", "paused")),
                        exists().where(
                            Position.wallet_id == BotWallet.id, Position.status == "open"
                        ),
                        exists().where(
                            Order.wallet_id == BotWallet.id, Order.status.in_(("open", "pending"))
                        ),
                    )
                )
                .limit(1)
            )
        ).first()
        if busy is not None:
            where = "the testnet" if testnet else "the real exchange"
            if busy.type == MANUAL_BOT_TYPE:
                raise Conflict(
                    "Your manual trades on this connection hold an open position or order: "
                    f"close them before switching to {where}."
                )
            raise Conflict(
                f"The bot {busy.name!r} trades live on this connection (running, paused, or "
                f"holding a position or an order): stop it and close its positions before "
                f"switching to {where}."
            )
        row.is_testnet = bool(testnet)
        await session.commit()
        return _view(row)


async def set_connection_active(
    db: Database, actor: Actor, connection_id: str, active: bool
) -> ConnectionView:
    async with db.session() as session:
        row = await load_connection(session, connection_id, owner_id=actor.user_id)
        row.is_active = bool(active)
        await session.commit()
        return _view(row)


async def disable_connection(db: Database, actor: Actor, connection_id: str) -> ConnectionView:
    return await set_connection_active(db, actor, connection_id, False)


async def enable_connection(db: Database, actor: Actor, connection_id: str) -> ConnectionView:
    return await set_connection_active(db, actor, connection_id, True)


async def remove_connection(db: Database, actor: Actor, connection_id: str) -> None:
    """Delete the connection and its keys. Its trades and orders stay in the history."""
    async with db.session() as session:
        row = await load_connection(session, connection_id, owner_id=actor.user_id)
        await session.execute(delete(ExchangeConnection).where(ExchangeConnection.id == row.id))
        await session.commit()


async def test_connection(
    db: Database,
    actor: Actor,
    connection_id: str,
    *,
    factory: ExchangeFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
    timeout: float = TEST_TIMEOUT_SECONDS,
) -> ConnectionTest:
    """Sign in to the exchange with the stored keys and read the balances, within ``timeout``
    seconds in all (markets and balance, retries included).

    Works on a disabled connection too (to check it before enabling it again). A failure is
    reported in the result, with the reason, rather than raised; only a success marks the
    connection used.
    """
    factory = factory or ExchangeFactory()
    async with db.session() as session:
        try:
            info, exchange = await open_exchange(
                session,
                connection_id,
                owner_id=actor.user_id,
                factory=factory,
                clock=clock,
                allow_inactive=True,
                mark_used=False,
            )
        except VaultError as exc:
            log.error("exchange connection %s: %s", connection_id, exc)
            raise Conflict(KEYS_UNREADABLE) from None
    try:
        broker = CcxtBroker(exchange, venue=info.venue, clock=clock)
        balances = await asyncio.wait_for(broker.balances(), timeout)
    except TimeoutError:
        return ConnectionTest(
            ok=False,
            message=f"{info.venue} did not answer within {timeout:g} s: check the network and "
            "the exchange's status, then test again.",
        )
    except ServiceError as exc:
        return ConnectionTest(ok=False, message=str(exc))
    finally:
        await exchange.close()
    async with db.session() as session, session.begin():
        await mark_connection_used(session, info.id, clock.now())
    held = tuple(sorted(balances.items()))
    return ConnectionTest(
        ok=True,
        message=f"Connected to {info.venue}: {len(held)} asset{'s' if len(held) != 1 else ''} with a balance.",
        balances=held,
    )
