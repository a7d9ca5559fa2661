"""``vault rotate``: re-encrypt every stored secret under a new master key, in one transaction.

Every vault-encrypted column is listed in ``SECRET_FIELDS`` with the column naming the row's
owner and the field name its writer binds into the associated data (the column name unless the
writer uses another: exchange keys are sealed as ``api_key``/``secret_key``/``passphrase``).
The convention for ``owner_id`` is the owning user's id (or the row's own id for rows no user
owns, such as signal providers). A module that adds an encrypted column registers it with
``register_secret_field`` so rotation can't miss it; tests rotate rows made by the services.

Order of work, so that no moment leaves a secret undecryptable:
1. the current key is saved as a *previous* key, then the new key becomes current;
2. one transaction re-encrypts every row still under an older key (all rows locked FOR UPDATE);
3. only after the commit are the previous keys forgotten. If step 2 fails, the old key is put
   back; if the process dies in between, the vault still holds both keys and a second
   ``vault rotate`` finishes the job.

With ``BLOCKBOTX_MASTER_KEY`` the operator owns the key: set the new one there and the old one
in ``BLOCKBOTX_PREVIOUS_MASTER_KEY``, then rotate; only step 2 runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.security import vault as vault_module
from core.security.vault import Vault, VaultError, generate_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SecretField:
    model: type[Any]
    column: str
    owner_column: str = "user_id"
    sealed_as: str = ""
    """The ``field`` of the associated data; empty: the column's name."""

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def aad_field(self) -> str:
        return self.sealed_as or self.column


SECRET_FIELDS: list[SecretField] = []


def register_secret_field(
    model: type[Any], column: str, owner_column: str = "user_id", *, sealed_as: str = ""
) -> None:
    field = SecretField(model, column, owner_column, sealed_as)
    if field not in SECRET_FIELDS:
        SECRET_FIELDS.append(field)


def _register_known_fields() -> None:
    from core.db.models.defi import Wallet
    from core.db.models.notifications import NotificationPreference
    from core.db.models.signals import SignalProvider
    from core.db.models.trading import ExchangeConnection
    from core.db.models.users import TwoFactorAuth

    register_secret_field(TwoFactorAuth, "secret")
    for name in ("api_key", "secret_key", "passphrase"):  # as core.services.exchanges seals
        register_secret_field(ExchangeConnection, f"encrypted_{name}", sealed_as=name)
    register_secret_field(Wallet, "encrypted_key")
    register_secret_field(SignalProvider, "api_key", owner_column="id")
    if hasattr(NotificationPreference, "discord_webhook_url"):
        register_secret_field(NotificationPreference, "discord_webhook_url")


_register_known_fields()


@dataclass(frozen=True, slots=True)
class RotationReport:
    key_id: str
    previous_key_ids: tuple[str, ...]
    reencrypted: dict[str, int]
    total_secrets: int

    @property
    def reencrypted_count(self) -> int:
        return sum(self.reencrypted.values())


async def reencrypt_all(session: AsyncSession, vault: Vault) -> tuple[dict[str, int], int]:
    """Re-encrypt, under ``vault.key``, every secret sealed with another key; in the caller's
    transaction. Returns (re-encrypted per table.column, secrets seen)."""
    done: dict[str, int] = {}
    seen = 0
    for field in SECRET_FIELDS:
        model = field.model
        column = getattr(model, field.column)
        rows = (
            await session.execute(
                select(model.id, getattr(model, field.owner_column), column)
                .where(column.is_not(None))
                .order_by(model.id)
                .with_for_update()
            )
        ).all()
        count = 0
        for row_id, owner_id, sealed in rows:
            seen += 1
            if vault.encrypted_with_this_key(sealed):
                continue
            try:
                plain = vault.decrypt(
                    sealed, table=field.table, owner_id=owner_id, field=field.aad_field
                )
            except VaultError as exc:
                raise VaultError(f"{exc} (row {row_id}); nothing was changed") from None
            fresh = vault.encrypt(
                plain, table=field.table, owner_id=owner_id, field=field.aad_field
            )
            await session.execute(
                update(model).where(model.id == row_id).values({field.column: fresh})
            )
            count += 1
        done[f"{field.table}.{field.column}"] = count
    return done, seen


async def _reencrypt(db: Database, vault: Vault) -> tuple[dict[str, int], int]:
    async with db.session() as session, session.begin():
        return await reencrypt_all(session, vault)


async def rotate_master_key(db: Database) -> RotationReport:
    """Rotate the master key (keyring or key file) or finish an env-driven rotation."""
    current = vault_module.load_vault()
    if current.source == "environment":
        if not current.previous:
            raise VaultError(
                "the master key comes from BLOCKBOTX_MASTER_KEY: put a new key there (e.g. "
                "`openssl rand -base64 32`), the old one in BLOCKBOTX_PREVIOUS_MASTER_KEY, and "
                "run `blockbotx vault rotate` again"
            )
        done, seen = await _reencrypt(db, current)
        vault_module.get_vault.cache_clear()
        return RotationReport(
            current.key_id, tuple(vault_module.key_id(k) for k in current.previous), done, seen
        )

    leftovers = current.previous
    new_key = generate_key()
    vault_module.store_previous_keys((current.key, *leftovers), current.source)
    vault_module.store_master_key(new_key, current.source)
    rotated = Vault(new_key, current.source, (current.key, *leftovers))
    try:
        done, seen = await _reencrypt(db, rotated)
    except BaseException:
        vault_module.store_master_key(current.key, current.source)
        vault_module.store_previous_keys(leftovers, current.source)
        raise
    vault_module.store_previous_keys((), current.source)
    vault_module.get_vault.cache_clear()
    log.info(
        "master key rotated from %s to %s (%s); %d secrets re-encrypted",
        current.key_id,
        rotated.key_id,
        current.source,
        sum(done.values()),
    )
    return RotationReport(
        rotated.key_id, tuple(vault_module.key_id(k) for k in rotated.previous), done, seen
    )
