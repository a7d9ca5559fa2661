"""``vault rotate`` over secrets written by the real services, every kind the vault holds, each
read back after rotation the way the app reads it, under the new key alone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.brokers.connections import credentials
from core.db.engine import Database
from core.db.models.defi import Wallet
from core.db.models.notifications import NotificationPreference
from core.db.models.signals import SignalProvider
from core.db.models.trading import ExchangeConnection
from core.security import rotation, totp
from core.security import vault as vault_module
from core.services import defi, exchanges, notifications, signals, twofactor
from core.services.authconfig import AuthConfig
from core.signals.ingest import open_key
from tests.service_users import add_user

PRIVATE_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WEBHOOK = "https://discord.com/api/webhooks/42/rotation-test-token"


async def test_rotation_reencrypts_every_kind_of_secret_the_services_write(
    db: Database, key_file_source: Path
) -> None:
    before = vault_module.get_vault()
    auth = AuthConfig()  # the process's vault, as the app uses it
    bob = await add_user(db, "bob@example.com", plan="pro")
    await exchanges.add_connection(
        db, bob, exchange="okx", api_key="okx-api-key", secret="okx-secret", passphrase="okx-phrase"
    )
    await exchanges.add_connection(
        db, bob, exchange="binance", api_key="binance-key", secret="binance-secret"
    )
    enrolment = await twofactor.begin_enrolment(db, bob, auth)
    async with db.sessions.begin() as s:
        await defi.add_wallet(s, bob, address=None, chain="ethereum", private_key=PRIVATE_KEY)
        await notifications.update_preferences(
            s, bob, {"discord_webhook_url": WEBHOOK, "discord_enabled": True}
        )
    feed = await signals.create_provider(
        db, bob, name="feed", type="api", url="https://signals.example.com/v1", api_key="feed-key"
    )
    hook = await signals.create_provider(db, bob, name="hook", type="webhook")

    report = await rotation.rotate_master_key(db)

    after = vault_module.get_vault()
    assert after.key != before.key and after.previous == ()
    registered = {f"{f.table}.{f.column}" for f in rotation.SECRET_FIELDS}
    assert set(report.reencrypted) == registered
    assert {k for k, n in report.reencrypted.items() if n == 0} == set()  # every kind was made
    assert report.reencrypted["exchange_connections.encrypted_passphrase"] == 1
    assert report.reencrypted["signal_providers.api_key"] == 2

    async with db.session() as s:
        connections = (await s.scalars(select(ExchangeConnection))).all()
        providers = {p.name: p for p in await s.scalars(select(SignalProvider))}
        wallet_key = await s.scalar(select(Wallet.encrypted_key))
        webhook = await s.scalar(select(NotificationPreference.discord_webhook_url))
    keys = {c.exchange: credentials(c) for c in connections}  # as the brokers read them
    assert (keys["okx"].api_key, keys["okx"].secret, keys["okx"].passphrase) == (
        "okx-api-key",
        "okx-secret",
        "okx-phrase",
    )
    assert (keys["binance"].api_key, keys["binance"].secret) == ("binance-key", "binance-secret")
    assert open_key(providers["feed"].id, providers["feed"].api_key) == "feed-key"
    assert open_key(providers["hook"].id, providers["hook"].api_key) == hook.key
    assert feed.key is None
    bound = {"owner_id": bob.user_id}
    assert after.decrypt(wallet_key, table="wallets", field="encrypted_key", **bound) == PRIVATE_KEY
    assert (
        after.decrypt(
            webhook, table="notification_preferences", field="discord_webhook_url", **bound
        )
        == WEBHOOK
    )
    # The TOTP secret: enrolment completes with a code from the secret sealed before rotation.
    code = totp.code_at(enrolment.secret, totp.time_step(auth.now()))
    assert len((await twofactor.confirm_enrolment(db, bob, code, auth)).codes) > 0
