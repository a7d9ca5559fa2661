"""POST /signals/{provider}: a signal for one of your webhook providers, stored as the webhook
would store it; refusals are clear and store nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.signals import Signal
from core.services import signals
from core.services.actor import SYSTEM
from tests.api.conftest import Api, key_for
from tests.service_users import add_user


async def _count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Signal)) or 0)


async def test_post_signal_stores_once_and_refuses_clearly(api: Api, db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    mine = await signals.create_provider(db, alice, name="desk", type="webhook")
    off = await signals.create_provider(db, alice, name="old desk", type="webhook")
    await signals.set_provider_active(db, alice, off.info.id, False)
    house = await signals.create_provider(db, SYSTEM, name="house", type="webhook", system=True)
    key = await key_for(db, alice, "signals")
    signal = b'{"id": "tv-1", "symbol": "eth/usdt", "action": "sell", "price": 3000.123456789}'
    async with api.client(key) as client:
        first = await client.post(f"/signals/{mine.info.id}", content=signal)
        again = await client.post(f"/signals/{mine.info.id}", content=signal)
        bad = await client.post(f"/signals/{mine.info.id}", json={"symbol": "ETH/USDT"})
        not_json = await client.post(f"/signals/{mine.info.id}", content=b"buy now")
        disabled = await client.post(f"/signals/{off.info.id}", content=signal)
        system = await client.post(f"/signals/{house.info.id}", content=signal)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    assert bad.status_code == 422 and bad.json()["detail"] == "action: is required"
    assert not_json.status_code == 422
    assert (
        disabled.status_code == 409
        and disabled.json()["detail"] == "This signal provider is disabled."
    )
    assert system.status_code == 404
    async with db.session() as s:
        (stored,) = await s.scalars(select(Signal))
    assert (stored.symbol, stored.action, stored.external_id) == ("ETH/USDT", "SELL", "tv-1")
    assert str(stored.price).startswith("3000.123456789000")
    assert await _count(db) == 1
