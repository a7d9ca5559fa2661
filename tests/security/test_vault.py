"""The vault: authenticated encryption bound to table/owner/field, previous keys, and rotation
(one transaction, every registered secret, safe to interrupt)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.trading import ExchangeConnection
from core.security import rotation
from core.security import vault as vault_module
from core.security.vault import Vault, VaultError, encode_key, generate_key
from core.services import exchanges
from tests.service_users import add_user


def test_aead_binds_table_owner_and_field() -> None:
    vault = Vault(generate_key())
    sealed = vault.encrypt(
        "api-secret", table="exchange_connections", owner_id="u1", field="encrypted_api_key"
    )
    assert "api-secret" not in sealed
    assert (
        vault.decrypt(
            sealed, table="exchange_connections", owner_id="u1", field="encrypted_api_key"
        )
        == "api-secret"
    )
    for table, owner, field in (
        ("exchange_connections", "u2", "encrypted_api_key"),
        ("wallets", "u1", "encrypted_api_key"),
        ("exchange_connections", "u1", "encrypted_secret_key"),
    ):
        with pytest.raises(VaultError):
            vault.decrypt(sealed, table=table, owner_id=owner, field=field)
    tampered = sealed[:-6] + ("AAAA" if sealed[-6:-2] != "AAAA" else "BBBB") + sealed[-2:]
    with pytest.raises(VaultError):
        vault.decrypt(
            tampered, table="exchange_connections", owner_id="u1", field="encrypted_api_key"
        )
    assert vault.encrypt("x", table="t", owner_id="o", field="f") != vault.encrypt(
        "x", table="t", owner_id="o", field="f"
    )


def test_previous_keys_decrypt_old_ciphertexts() -> None:
    old, new = generate_key(), generate_key()
    sealed = Vault(old).encrypt("s", table="t", owner_id="o", field="f")
    with pytest.raises(VaultError, match="another master key"):
        Vault(new).decrypt(sealed, table="t", owner_id="o", field="f")
    both = Vault(new, previous=(old,))
    assert both.decrypt(sealed, table="t", owner_id="o", field="f") == "s"
    assert not both.encrypted_with_this_key(sealed)


async def _seed_connections(db: Database) -> dict[str, tuple[str, str]]:
    """Two users' exchange connections, made by the exchange service (as ``exchange add``)."""
    out = {}
    for email in ("a@example.com", "b@example.com"):
        actor = await add_user(db, email)
        await exchanges.add_connection(
            db, actor, exchange="binance", api_key=f"key-{email}", secret=f"secret-{email}"
        )
        out[actor.user_id] = (f"key-{email}", f"secret-{email}")
    return out


def _open(vault: Vault, r: ExchangeConnection) -> tuple[str, str]:
    """The keys under ``vault``, bound as the exchange service seals them."""
    bound = {"table": "exchange_connections", "owner_id": r.user_id}
    return (
        vault.decrypt(r.encrypted_api_key, field="api_key", **bound),
        vault.decrypt(r.encrypted_secret_key, field="secret_key", **bound),
    )


async def _decrypted(db: Database, vault: Vault) -> dict[str, tuple[str, str]]:
    async with db.session() as s:
        rows = (await s.scalars(select(ExchangeConnection))).all()
    return {r.user_id: _open(vault, r) for r in rows}


async def test_rotation_with_a_key_file(db: Database, key_file_source: Path) -> None:
    before = vault_module.load_vault()
    assert before.source == "file"
    assert stat.S_IMODE((key_file_source / "master.key").stat().st_mode) == 0o600
    plain = await _seed_connections(db)
    report = await rotation.rotate_master_key(db)
    after = vault_module.get_vault()
    assert after.key != before.key and after.key_id == report.key_id and after.previous == ()
    assert report.reencrypted["exchange_connections.encrypted_api_key"] == 2
    assert report.reencrypted_count == 4
    assert await _decrypted(db, Vault(after.key)) == plain  # the new key alone opens everything
    assert not (key_file_source / "master.key.previous").exists()
    assert stat.S_IMODE((key_file_source / "master.key").stat().st_mode) == 0o600


async def test_failed_rotation_changes_nothing(db: Database, key_file_source: Path) -> None:
    before = vault_module.load_vault()
    plain = await _seed_connections(db)
    async with db.session() as s, s.begin():
        row = (
            await s.scalars(select(ExchangeConnection).order_by(ExchangeConnection.user_id))
        ).first()
        other = await add_user(db, "c@example.com")
        row.encrypted_secret_key = before.encrypt(
            "moved",
            table="exchange_connections",
            owner_id=other.user_id,
            field="secret_key",
        )
        plain.pop(row.user_id)
    with pytest.raises(VaultError, match="nothing was changed"):
        await rotation.rotate_master_key(db)
    again = vault_module.load_vault()
    assert again.key == before.key and again.previous == ()
    survivors = {k: v for k, v in (await _decrypted_lenient(db, before)).items() if k in plain}
    assert survivors == plain


async def _decrypted_lenient(db: Database, vault: Vault) -> dict[str, tuple[str, str]]:
    out = {}
    async with db.session() as s:
        for r in (await s.scalars(select(ExchangeConnection))).all():
            try:
                out[r.user_id] = _open(vault, r)
            except VaultError:
                continue
    return out


async def test_interrupted_rotation_is_finished_by_the_next(
    db: Database, key_file_source: Path
) -> None:
    old = vault_module.load_vault()
    plain = await _seed_connections(db)
    # The state a crash between "new key stored" and "rows committed" leaves behind.
    vault_module.store_previous_keys((old.key,), "file")
    vault_module.store_master_key(generate_key(), "file")
    middle = vault_module.load_vault()
    assert middle.previous == (old.key,)
    assert await _decrypted(db, middle) == plain
    await rotation.rotate_master_key(db)
    final = vault_module.load_vault()
    assert final.previous == () and await _decrypted(db, Vault(final.key)) == plain


async def test_rotation_with_keys_from_the_environment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = vault_module.load_vault()
    assert old.source == "environment"
    plain = await _seed_connections(db)
    with pytest.raises(VaultError, match="BLOCKBOTX_PREVIOUS_MASTER_KEY"):
        await rotation.rotate_master_key(db)
    new = generate_key()
    monkeypatch.setenv("BLOCKBOTX_MASTER_KEY", encode_key(new))
    monkeypatch.setenv("BLOCKBOTX_PREVIOUS_MASTER_KEY", encode_key(old.key))
    report = await rotation.rotate_master_key(db)
    assert report.reencrypted_count == 4
    assert await _decrypted(db, Vault(new)) == plain
    vault_module.get_vault.cache_clear()
