"""From an ``exchange_connections`` row to a ccxt client: decrypt the keys, only for the call.

Below the services on purpose: the trading service (acting user) and the bot engine (acting for
a bot's owner) both come through here, and both must name the owner, so a connection is only
ever opened for the user it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.trading import ExchangeConnection
from core.errors import Conflict, Forbidden, NotFound
from core.market.ccxt_client import Credentials, ExchangeFactory
from core.market.errors import venue_name
from core.market.lazy_ccxt import ccxt
from core.security.vault import get_vault

TABLE = "exchange_connections"


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    id: str
    user_id: str
    exchange: str
    is_testnet: bool
    is_active: bool
    permissions: tuple[str, ...]

    @property
    def venue(self) -> str:
        return venue_name(self.exchange, testnet=self.is_testnet)

    @property
    def feed_name(self) -> str:
        """The ``exchanges.name`` its pairs are stored under (testnet markets differ)."""
        return f"{self.exchange}-testnet" if self.is_testnet else self.exchange


def _info(row: ExchangeConnection) -> ConnectionInfo:
    return ConnectionInfo(
        id=row.id,
        user_id=row.user_id,
        exchange=row.exchange,
        is_testnet=row.is_testnet,
        is_active=row.is_active,
        permissions=tuple(row.permissions or ()),
    )


async def load_connection(
    session: AsyncSession, connection_id: str, *, owner_id: str
) -> ExchangeConnection:
    """The connection if ``owner_id`` owns it; otherwise NotFound, exactly as if it didn't exist."""
    row = await session.scalar(
        select(ExchangeConnection).where(
            ExchangeConnection.id == connection_id, ExchangeConnection.user_id == owner_id
        )
    )
    if row is None:
        raise NotFound(f"No exchange connection {connection_id!r}.")
    return row


def credentials(row: ExchangeConnection) -> Credentials:
    vault = get_vault()

    def clear(token: str, field: str) -> str:
        return vault.decrypt(token, table=TABLE, owner_id=row.user_id, field=field)

    return Credentials(
        api_key=clear(row.encrypted_api_key, "api_key"),
        secret=clear(row.encrypted_secret_key, "secret_key"),
        passphrase=clear(row.encrypted_passphrase, "passphrase")
        if row.encrypted_passphrase
        else None,
    )


async def open_exchange(
    session: AsyncSession,
    connection_id: str,
    *,
    owner_id: str,
    factory: ExchangeFactory,
    clock: Clock = SYSTEM_CLOCK,
    trade: bool = False,
    allow_inactive: bool = False,
    mark_used: bool = True,
) -> tuple[ConnectionInfo, ccxt.Exchange]:
    """A ccxt client with the connection's keys; marks it used (unless ``mark_used`` is off:
    the caller marks it after a success). The caller closes the client.

    ``trade``: the call will place or cancel orders, so the connection must allow trading.
    """
    row = await load_connection(session, connection_id, owner_id=owner_id)
    if not row.is_active and not allow_inactive:
        raise Conflict(f"The {venue_name(row.exchange)} connection is disabled; enable it first.")
    if trade and "trade" not in (row.permissions or ()):
        raise Forbidden(
            f"The {venue_name(row.exchange)} connection is read-only; allow trading on it first."
        )
    exchange = factory.create(row.exchange, credentials(row), testnet=row.is_testnet)
    if mark_used:
        await mark_connection_used(session, row.id, clock.now())
    return _info(row), exchange


async def mark_connection_used(session: AsyncSession, connection_id: str, when: datetime) -> None:
    await session.execute(
        update(ExchangeConnection)
        .where(ExchangeConnection.id == connection_id)
        .values(last_used=when)
    )
