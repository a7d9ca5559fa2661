"""The GDPR export holds every table with the user's personal data: security logs, the notes
staff wrote about them, their own signal providers (no key) and those providers' signals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models import metadata
from core.db.models.signals import Signal, SignalProvider
from core.services import admin, privacy, signals
from core.services.actor import Role
from core.services.audit import SecurityEvent, security_event
from tests.privacy.test_export import seed_user_with_secrets
from tests.service_users import add_user

NOT_PERSONAL = {
    # Shared reference and market data, the engine's own bookkeeping, and the replay cache of
    # webhook signatures (one-use technical values, not data about a person).
    "blocked_ips", "defi_protocols", "engine_processes", "exchanges", "faqs", "help_articles",
    "help_categories", "historical_datasets", "liquidity_pools", "signal_nonces",
    "system_settings", "trading_pairs",
}  # fmt: skip


def test_every_table_with_personal_data_is_exported() -> None:
    exported = set(privacy.EXPORT_TYPES["all"])
    for name in metadata.tables:
        if name in NOT_PERSONAL:
            assert name not in exported, name
            continue
        assert name in exported, f"{name} is neither exported nor listed as not personal"
    assert {"security_logs", "admin_notes", "signal_providers", "signals"} <= exported


async def test_the_export_has_security_logs_notes_and_providers_and_no_secret(
    db: Database,
) -> None:
    clock = FrozenClock()
    bob = await add_user(db, "bob@example.com", plan="pro")
    eve = await add_user(db, "eve@example.com", plan="pro")
    staff = await add_user(db, "staff@example.com", role=Role.ADMIN)
    planted = await seed_user_with_secrets(db, bob)
    await signals.create_provider(
        db, bob, name="bob feed", type="api", url="https://feed.example.com/x", api_key="fk-9913"
    )
    hook = await signals.create_provider(db, bob, name="bob hook", type="webhook")
    await signals.create_provider(db, eve, name="eve feed", type="webhook")
    async with db.sessions.begin() as s:
        await admin.add_note(s, staff, bob.user_id, "Asked about fees twice", clock=clock)
        await admin.add_note(s, staff, eve.user_id, "Eve's private note", clock=clock)
        await security_event(
            s,
            type=SecurityEvent.AUTH_FAILURE,
            at=clock.now(),
            ip_address="198.51.100.23",
            user_agent="bob's laptop",
            user_id=bob.user_id,
        )
        await security_event(
            s,
            type=SecurityEvent.AUTH_FAILURE,
            at=clock.now(),
            ip_address="203.0.113.99",
            user_agent="eve's phone",
            user_id=eve.user_id,
        )
        s.add(Signal(provider_id=hook.info.id, symbol="BTC/USDT", action="BUY", price=Decimal(1)))
    secrets = [*planted, "fk-9913", hook.key or ""]
    async with db.session() as s:  # the providers' keys as stored (vault ciphertexts)
        secrets += list(
            await s.scalars(
                select(SignalProvider.api_key).where(SignalProvider.user_id == bob.user_id)
            )
        )

    done = await privacy.request_export(db, bob, "all", fmt="json", clock=clock)
    text = Path(done.file_url or "").read_text()
    tables = json.loads(text)["tables"]
    assert [n["content"] for n in tables["admin_notes"]] == ["Asked about fees twice"]
    assert [(e["ip_address"], e["user_agent"]) for e in tables["security_logs"]] == [
        ("198.51.100.23", "bob's laptop")
    ]
    assert sorted(p["name"] for p in tables["signal_providers"]) == ["bob feed", "bob hook"]
    assert all("api_key" not in p for p in tables["signal_providers"])
    assert [(g["symbol"], g["action"]) for g in tables["signals"]] == [("BTC/USDT", "BUY")]
    assert (
        "Eve's private note" not in text and "eve feed" not in text and "203.0.113.99" not in text
    )
    for secret in secrets:
        assert secret not in text, f"secret leaked into the export: {secret[:12]}…"
    assert "v1:" not in text
