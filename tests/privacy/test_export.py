"""Privacy settings and data exports: the user's data is there, no secret is, others are refused."""

from __future__ import annotations

import json
import secrets
import stat
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.bots import Bot
from core.db.models.defi import Wallet
from core.db.models.notifications import NotificationPreference
from core.db.models.trading import ExchangeConnection, Position, Trade
from core.db.models.users import ApiKey, DataExport, Session, TwoFactorAuth, User
from core.errors import Forbidden, InvalidInput, NotFound
from core.security.vault import get_vault
from core.services import defi, privacy
from core.services import notifications as notification_service
from core.services.actor import Actor, Role
from tests.service_users import add_user

PRIVATE_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
PRICE = Decimal("43210.123456789012345678901234567891")


async def seed_user_with_secrets(db: Database, actor: Actor) -> list[str]:
    """Give the user data and every kind of secret; returns every secret string created."""
    vault = get_vault()
    uid = actor.user_id
    s_ = {name: secrets.token_hex(16) for name in (
        "password", "totp", "backup", "reset", "verify", "tfa_secret", "tfa_backup", "refresh",
        "api_key_hash", "exchange_key", "exchange_secret", "passphrase",
    )}  # fmt: skip
    s_["password"] = "$argon2id$v=19$m=65536,t=3,p=4$" + s_["password"]
    webhook = f"https://discord.com/api/webhooks/42/{secrets.token_urlsafe(24)}"
    enc = {
        "totp": vault.encrypt(s_["totp"], table="users", owner_id=uid, field="two_factor_secret"),
        "tfa": vault.encrypt(s_["tfa_secret"], table="two_factor_auth", owner_id=uid, field="secret"),
        "key": vault.encrypt(s_["exchange_key"], table="exchange_connections", owner_id=uid, field="encrypted_api_key"),
        "secret": vault.encrypt(s_["exchange_secret"], table="exchange_connections", owner_id=uid, field="encrypted_secret_key"),
        "pass": vault.encrypt(s_["passphrase"], table="exchange_connections", owner_id=uid, field="encrypted_passphrase"),
    }  # fmt: skip
    async with db.sessions.begin() as s:
        user = await s.get(User, uid)
        user.password = s_["password"]
        user.two_factor_secret = enc["totp"]
        user.two_factor_backup_codes = [s_["backup"]]
        user.reset_password_token = s_["reset"]
        user.email_verification_token = s_["verify"]
        user.first_name = "Bob"
        s.add(
            TwoFactorAuth(
                user_id=uid, secret=enc["tfa"], backup_codes=[s_["tfa_backup"]], enabled=True
            )
        )
        s.add(
            Session(
                user_id=uid,
                refresh_token=s_["refresh"],
                expires_at=FrozenClock().now() + timedelta(days=7),
            )
        )
        s.add(ApiKey(user_id=uid, name="ci", key_hash=s_["api_key_hash"], key_prefix="bbx_ab12"))
        s.add(ExchangeConnection(
            user_id=uid, exchange="binance", encrypted_api_key=enc["key"], encrypted_secret_key=enc["secret"],
            encrypted_passphrase=enc["pass"], label="main account",
        ))  # fmt: skip
        bot = Bot(
            user_id=uid,
            name="BTC grid",
            config={"pair": "BTC/USDT"},
            risk_settings={"max_position": "0.1"},
        )
        s.add(bot)
        await s.flush()
        s.add(Position(
            bot_id=bot.id, symbol="BTC/USDT", side="long", quantity=Decimal("0.5"), entry_price=PRICE,
            current_price=PRICE, stop_loss=Decimal(40000), take_profit=Decimal(50000),
        ))  # fmt: skip
        s.add(Trade(user_id=uid, bot_id=bot.id, symbol="BTC/USDT", side="BUY", price=PRICE,
                    quantity=Decimal("0.5"), executed_price=PRICE))  # fmt: skip
        await defi.add_wallet(s, actor, address=None, chain="ethereum", private_key=PRIVATE_KEY)
        await notification_service.update_preferences(
            s, actor, {"discord_webhook_url": webhook, "discord_enabled": True}
        )
    async with db.session() as s:
        wallet_ct = await s.scalar(select(Wallet.encrypted_key).where(Wallet.user_id == uid))
        webhook_ct = await s.scalar(
            select(NotificationPreference.discord_webhook_url).where(
                NotificationPreference.user_id == uid
            )
        )
    return [*s_.values(), *enc.values(), webhook, webhook_ct, PRIVATE_KEY, wallet_ct]


def files_of(path: Path) -> dict[str, str]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n).decode() for n in zf.namelist()}
    return {path.name: path.read_text()}


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_holds_the_data_and_no_secret(db: Database, fmt: str) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com", plan="pro")
    eve = await add_user(db, "eve@example.com", plan="pro")
    planted = await seed_user_with_secrets(db, bob)
    await seed_user_with_secrets(db, eve)

    done = await privacy.request_export(db, bob, "all", fmt=fmt, clock=clock)
    assert done.status == "completed" and done.expires_at == clock.now() + timedelta(days=7)
    path = Path(done.file_url)
    assert path.is_file() and path.is_relative_to(privacy.export_dir(bob.user_id))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    contents = files_of(path)
    blob = "\n".join(contents.values())
    for secret in planted:
        assert secret not in blob, f"secret leaked into the export: {secret[:12]}…"
    assert "v1:" not in blob  # no vault ciphertext of any kind
    # the user's own data is there, exactly
    assert "bob@example.com" in blob and "eve@example.com" not in blob
    assert str(PRICE) in blob and "BTC grid" in blob and "main account" in blob
    assert "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" in blob  # the managed wallet's address
    if fmt == "csv":
        assert {
            "trades.csv",
            "bots.csv",
            "positions.csv",
            "users.csv",
            "wallets.csv",
            "export.json",
        } <= set(contents)
        header = contents["users.csv"].splitlines()[0].split(",")
        assert "email" in header and "password" not in header and "two_factor_secret" not in header
        assert "encrypted_api_key" not in contents["exchange_connections.csv"]
    else:
        doc = json.loads(blob)
        assert doc["tables"]["trades"][0]["price"] == str(PRICE)
        assert doc["tables"]["sessions"][0].keys() >= {"expires_at", "user_agent"}
        assert "refresh_token" not in doc["tables"]["sessions"][0]
        assert doc["tables"]["two_factor_auth"][0]["enabled"] is True


async def test_export_types_and_ownership(db: Database) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com", plan="pro")
    eve = await add_user(db, "eve@example.com", plan="pro")
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN, plan="pro")
    await seed_user_with_secrets(db, bob)
    trades = await privacy.request_export(db, bob, "trades", clock=clock)
    names = set(files_of(Path(trades.file_url)))
    assert names == {
        "export.json",
        "trades.csv",
        "orders.csv",
        "positions.csv",
        "portfolio_history.csv",
    }

    with pytest.raises(InvalidInput, match="export_type"):
        await privacy.request_export(db, bob, "everything")
    with pytest.raises(InvalidInput, match="format"):
        await privacy.request_export(db, bob, "all", fmt="xml")
    with pytest.raises(Forbidden, match="administrator"):
        await privacy.request_export(db, eve, "all", for_user_id=bob.user_id)
    with pytest.raises(NotFound):
        await privacy.request_export(db, admin, "all", for_user_id="ghost")

    # an admin can fulfil a request for bob; it is audited and the file is bob's
    for_bob = await privacy.request_export(
        db, admin, "profile", fmt="json", for_user_id=bob.user_id, clock=clock
    )
    assert (
        for_bob.user_id == bob.user_id and "bob@example.com" in Path(for_bob.file_url).read_text()
    )
    async with db.session() as s:
        assert [e.id for e in await privacy.list_exports(s, eve)] == []
        assert len(await privacy.list_exports(s, bob)) == 2
        assert (
            await s.scalar(select(AuditLog.action).where(AuditLog.user_id == admin.user_id))
            == "admin_data_exported"
        )

    clock.advance(days=8)
    assert await privacy.purge_expired_exports(db, clock=clock) == 2
    assert not Path(trades.file_url).exists()
    async with db.session() as s:
        assert await s.scalar(select(DataExport.id)) is None


async def test_privacy_settings(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    eve = await add_user(db, "eve@example.com")
    async with db.sessions.begin() as s:
        assert await privacy.get_privacy_settings(s, bob) == privacy.PrivacyView()
        shown = await privacy.update_privacy_settings(
            s,
            bob,
            {"profile_visibility": "friends", "show_email": True, "allow_messages_from": "nobody"},
        )
        assert (shown.profile_visibility, shown.show_email, shown.allow_messages_from) == (
            "friends",
            True,
            "nobody",
        )
        assert await privacy.get_privacy_settings(s, eve) == privacy.PrivacyView()
        for bad, field in (
            ({"profile_visibility": "everyone"}, "^Profile visibility must be"),
            ({"allow_messages_from": "friends"}, "^Allow messages from must be"),
            ({"show_email": None}, "empty"),
            ({"user_id": eve.user_id}, "^User id is an unknown setting"),
        ):
            with pytest.raises(InvalidInput, match=field):
                await privacy.update_privacy_settings(s, bob, bad)
        assert (await privacy.get_privacy_settings(s, bob)).profile_visibility == "friends"
