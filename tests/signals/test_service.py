"""Provider management: validation, vault-held keys, and ownership in every function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.signals import Signal, SignalExecution, SignalProvider
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from core.security.vault import VaultError, get_vault
from core.services import signals as service
from core.services.actor import SYSTEM, Actor, Role
from tests.service_users import add_user
from tests.signals.conftest import snapshot

TOKEN = "123456789:AAE" + "x" * 30


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)))


async def _row(db: Database, provider_id: str) -> SignalProvider:
    async with db.session() as s:
        row = await s.get(SignalProvider, provider_id)
        assert row is not None
        return row


async def _bot(db: Database, actor: Actor, provider_id: str, name: str = "follower") -> str:
    async with db.sessions.begin() as s:
        bot = Bot(
            user_id=actor.user_id,
            name=name,
            type="signal",
            config={"source": "provider", "provider_id": provider_id},
            risk_settings={},
        )
        s.add(bot)
        await s.flush()
        return bot.id


async def test_a_webhook_provider_gets_a_path_and_a_key_held_only_by_the_vault(
    db: Database, alice: Actor
) -> None:
    created = await service.create_provider(db, alice, name=" Desk ", type="webhook")
    info, key = created.info, created.key
    assert key is not None and key.startswith("bbxsig_") and len(key) == 50
    assert key not in repr(created)
    assert (info.name, info.type, info.url) == ("Desk", "webhook", f"/signals/{info.id}")
    assert info.config == {"rate_limit_per_minute": 60}
    assert info.owner_id == alice.user_id and not info.system and info.has_key
    assert info.is_active and info.reliability == Decimal(0)
    row = await _row(db, info.id)
    assert row.api_key is not None and key not in row.api_key
    vault = get_vault()
    opened = vault.decrypt(row.api_key, table="signal_providers", owner_id=info.id, field="api_key")
    assert opened == key
    with pytest.raises(VaultError):  # bound to this provider: useless copied to another row
        vault.decrypt(row.api_key, table="signal_providers", owner_id="other", field="api_key")
    # Never shown again: reads carry no key.
    assert not hasattr(await service.get_provider(db, alice, info.id), "key")


async def test_api_and_telegram_providers_keep_the_key_they_are_given(
    db: Database, alice: Actor
) -> None:
    api = await service.create_provider(
        db,
        alice,
        name="feed",
        type="api",
        url="https://signals.example.com/v1/list",
        api_key="secret-123",
        config={"poll_interval_seconds": 30},
    )
    assert api.key is None and api.info.url == "https://signals.example.com/v1/list"
    assert api.info.config["poll_interval_seconds"] == 30 and api.info.has_key
    keyless = await service.create_provider(
        db, alice, name="open feed", type="api", url="http://127.0.0.1:8080/s"
    )
    assert not keyless.info.has_key
    tg = await service.create_provider(
        db, alice, name="tg", type="telegram", api_key=TOKEN, config={"chat_ids": [-100123]}
    )
    assert tg.key is None and tg.info.url is None and tg.info.config["chat_ids"] == [-100123]
    row = await _row(db, tg.info.id)
    assert TOKEN not in (row.api_key or "")
    rotated = await service.rotate_provider_key(db, alice, api.info.id, "new-secret")
    assert rotated.key is None
    row = await _row(db, api.info.id)
    assert (
        get_vault().decrypt(
            row.api_key or "", table="signal_providers", owner_id=row.id, field="api_key"
        )
        == "new-secret"
    )


BAD_CREATES: list[tuple[dict, str]] = [
    ({"name": "x", "type": "email"}, "type"),
    ({"name": "", "type": "webhook"}, "name"),
    ({"name": "a\nb", "type": "webhook"}, "name"),
    ({"name": "x" * 65, "type": "webhook"}, "name"),
    ({"name": "x", "type": "webhook", "config": {"rate_limit_per_minute": 0}}, "config.rate_limit_per_minute"),
    ({"name": "x", "type": "webhook", "config": {"rate_limit": 5}}, "config.rate_limit"),
    ({"name": "x", "type": "webhook", "config": [1]}, "config"),
    ({"name": "x", "type": "webhook", "api_key": "mine"}, "api_key"),
    ({"name": "x", "type": "webhook", "url": "http://x.test"}, "url"),
    ({"name": "x", "type": "api"}, "url"),
    ({"name": "x", "type": "api", "url": "ftp://x.test/file"}, "url"),
    ({"name": "x", "type": "api", "url": "http://x.test", "api_key": "two words"}, "api_key"),
    ({"name": "x", "type": "api", "url": "http://x.test", "config": {"poll_interval_seconds": 1}}, "config.poll_interval_seconds"),
    ({"name": "x", "type": "api", "url": "http://x.test", "config": {"auth_header": "X: y"}}, "config.auth_header"),
    ({"name": "x", "type": "telegram", "config": {"chat_ids": [1]}}, "api_key"),
    ({"name": "x", "type": "telegram", "api_key": "not-a-token", "config": {"chat_ids": [1]}}, "api_key"),
    ({"name": "x", "type": "telegram", "api_key": TOKEN}, "config.chat_ids"),
    ({"name": "x", "type": "telegram", "api_key": TOKEN, "config": {"chat_ids": []}}, "config.chat_ids"),
]  # fmt: skip


async def test_bad_input_is_a_clear_error_and_creates_nothing(db: Database, alice: Actor) -> None:
    before = await snapshot(db)
    for kwargs, field in BAD_CREATES:
        with pytest.raises(InvalidInput) as caught:
            await service.create_provider(db, alice, **kwargs)
        assert caught.value.field == field, (kwargs, str(caught.value))
        assert str(caught.value)
    assert await snapshot(db) == before


async def test_names_are_unique_per_owner(db: Database, alice: Actor) -> None:
    bob = await add_user(db, "bob@example.com")
    await service.create_provider(db, alice, name="desk", type="webhook")
    with pytest.raises(Conflict):
        await service.create_provider(db, alice, name="desk", type="webhook")
    await service.create_provider(db, bob, name="desk", type="webhook")
    other = await service.create_provider(db, alice, name="other", type="webhook")
    with pytest.raises(Conflict):
        await service.update_provider(db, alice, other.info.id, name="desk")


async def test_another_users_provider_is_not_found_by_any_function(
    db: Database, alice: Actor
) -> None:
    bob = await add_user(db, "bob@example.com")
    mine = (await service.create_provider(db, alice, name="desk", type="webhook")).info
    pid = mine.id
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: service.get_provider(db, bob, pid),
        lambda: service.update_provider(db, bob, pid, name="stolen"),
        lambda: service.update_provider(db, bob, pid, config={"rate_limit_per_minute": 1}),
        lambda: service.set_provider_active(db, bob, pid, False),
        lambda: service.rotate_provider_key(db, bob, pid),
        lambda: service.delete_provider(db, bob, pid),
        lambda: service.recent_signals(db, bob, pid),
    ]
    before = await snapshot(db)
    for call in calls:
        with pytest.raises(NotFound) as caught:
            await call()
        assert pid in str(caught.value)
    async with db.session() as s:
        with pytest.raises(NotFound):
            await service.followable_provider(s, bob, pid)
    assert await snapshot(db) == before
    assert [p.id for p in await service.list_providers(db, bob)] == []
    assert [p.id for p in await service.list_providers(db, alice)] == [pid]
    # ...and a missing id or garbage reads the same.
    for bad in ("nosuchprovider0000000000", "", "x" * 200, "\x00", "Robert'); DROP TABLE"):
        with pytest.raises(NotFound):
            await service.get_provider(db, alice, bad)


async def test_system_providers_are_managed_by_admins_and_followed_by_anyone(
    db: Database, alice: Actor
) -> None:
    admin = await add_user(db, "root@example.com", role=Role.ADMIN)
    with pytest.raises(Forbidden):
        await service.create_provider(db, alice, name="house", type="webhook", system=True)
    house = (
        await service.create_provider(db, admin, name="house", type="webhook", system=True)
    ).info
    assert house.system and house.owner_id is None
    assert [p.id for p in await service.list_providers(db, alice)] == [house.id]
    assert (await service.get_provider(db, alice, house.id)).name == "house"
    async with db.session() as s:
        assert (await service.followable_provider(s, alice, house.id)).id == house.id
    for call in (
        lambda: service.update_provider(db, alice, house.id, name="mine now"),
        lambda: service.set_provider_active(db, alice, house.id, False),
        lambda: service.rotate_provider_key(db, alice, house.id),
        lambda: service.delete_provider(db, alice, house.id),
    ):
        with pytest.raises(Forbidden):
            await call()
    assert (await service.update_provider(db, admin, house.id, name="House")).name == "House"
    # The operator (system actor) reaches every provider when it asks to.
    mine = (await service.create_provider(db, alice, name="desk", type="webhook")).info
    with pytest.raises(Forbidden):
        await service.list_providers(db, alice, everyone=True)
    every = {p.id for p in await service.list_providers(db, SYSTEM, everyone=True)}
    assert every == {house.id, mine.id}
    with pytest.raises(NotFound):
        await service.get_provider(db, SYSTEM, mine.id)
    await service.set_provider_active(db, SYSTEM, mine.id, False, everyone=True)
    assert not (await service.get_provider(db, alice, mine.id)).is_active


async def test_update_disable_enable(db: Database, alice: Actor) -> None:
    api = (
        await service.create_provider(db, alice, name="feed", type="api", url="http://a.test/x")
    ).info
    updated = await service.update_provider(
        db,
        alice,
        api.id,
        name="Feed",
        url="https://b.test/y",
        config={"poll_interval_seconds": 120, "auth_scheme": ""},
    )
    assert (updated.name, updated.url) == ("Feed", "https://b.test/y")
    assert updated.config["poll_interval_seconds"] == 120 and updated.config["auth_scheme"] == ""
    with pytest.raises(InvalidInput):
        await service.update_provider(db, alice, api.id, config={"rate_limit_per_minute": 5})
    hook = (await service.create_provider(db, alice, name="hook", type="webhook")).info
    with pytest.raises(InvalidInput):
        await service.update_provider(db, alice, hook.id, url="http://elsewhere.test")
    with pytest.raises(InvalidInput):
        await service.rotate_provider_key(db, alice, hook.id, "chosen-key")
    assert not (await service.set_provider_active(db, alice, hook.id, False)).is_active
    assert (await service.set_provider_active(db, alice, hook.id, True)).is_active


async def test_delete_is_refused_while_a_bot_follows_and_takes_the_signals_along(
    db: Database, alice: Actor
) -> None:
    hook = (await service.create_provider(db, alice, name="hook", type="webhook")).info
    async with db.sessions.begin() as s:
        s.add(Signal(provider_id=hook.id, symbol="BTC/USDT", action="BUY"))
    bot_id = await _bot(db, alice, hook.id)
    with pytest.raises(Conflict) as caught:
        await service.delete_provider(db, alice, hook.id)
    assert "1 bot" in str(caught.value)
    async with db.sessions.begin() as s:
        await s.delete(await s.get(Bot, bot_id))
    await service.delete_provider(db, alice, hook.id)
    assert await _count(db, SignalProvider) == 0 and await _count(db, Signal) == 0


async def test_recent_signals_page_newest_first_with_only_my_bots_executions(
    db: Database, alice: Actor
) -> None:
    admin = await add_user(db, "root@example.com", role=Role.ADMIN)
    bob = await add_user(db, "bob@example.com")
    house = (
        await service.create_provider(db, admin, name="house", type="webhook", system=True)
    ).info
    clock = FrozenClock()
    ids = []
    async with db.sessions.begin() as s:
        for n in range(5):
            signal = Signal(
                provider_id=house.id,
                symbol="ETH/USDT",
                action="SELL",
                price=Decimal("3000.000000000000000001"),
                created_at=clock.now() + timedelta(minutes=n),
            )
            s.add(signal)
            await s.flush()
            ids.append(signal.id)
    mine = await _bot(db, alice, house.id, "alice bot")
    theirs = await _bot(db, bob, house.id, "bob bot")
    async with db.sessions.begin() as s:
        s.add(
            SignalExecution(
                signal_id=ids[4], bot_id=mine, status="skipped", reason="low confidence"
            )
        )
        s.add(SignalExecution(signal_id=ids[4], bot_id=theirs, status="success"))
    first = await service.recent_signals(db, alice, house.id, limit=2)
    assert [s.id for s in first] == [ids[4], ids[3]]
    assert first[0].price == Decimal("3000.000000000000000001")
    (execution,) = first[0].executions
    assert (execution.bot_name, execution.status, execution.reason) == (
        "alice bot",
        "skipped",
        "low confidence",
    )
    rest = await service.recent_signals(db, alice, house.id, limit=10, before=first[-1].id)
    assert [s.id for s in rest] == [ids[2], ids[1], ids[0]]
    assert [
        e.bot_name for e in (await service.recent_signals(db, bob, house.id))[0].executions
    ] == ["bob bot"]
    for limit in (0, 501, True):
        with pytest.raises(InvalidInput):
            await service.recent_signals(db, alice, house.id, limit=limit)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await service.recent_signals(db, alice, house.id, before="nosuchsignal000000000000")


async def test_the_operator_acts_as_a_user_found_by_email(db: Database, alice: Actor) -> None:
    assert await service.user_actor(db, SYSTEM, "ALICE@example.com") == alice
    with pytest.raises(NotFound):
        await service.user_actor(db, SYSTEM, "nobody@example.com")
    with pytest.raises(NotFound):
        await service.user_actor(db, SYSTEM, "a\x00b")
    with pytest.raises(Forbidden):
        await service.user_actor(db, alice, "alice@example.com")


texts = st.text(max_size=40) | st.sampled_from(["", " ", "\x00", "\ud800", "x" * 300, "1:2"])
values = (
    texts | st.integers() | st.none() | st.dictionaries(texts, st.integers() | texts, max_size=3)
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=texts,
    kind=st.sampled_from(["webhook", "api", "telegram", "x"]),
    config=values,
    url=values,
    key=values,
)
async def test_arbitrary_input_gives_typed_errors_and_refusals_change_nothing(
    db: Database, alice: Actor, name: str, kind: str, config: object, url: object, key: object
) -> None:
    before = await snapshot(db)
    try:
        await service.create_provider(
            db,
            alice,
            name=name,
            type=kind,
            config=config,
            url=url,
            api_key=key,  # type: ignore[arg-type]
        )
    except InvalidInput:
        assert await snapshot(db) == before
    except ServiceError:
        pass
