"""API keys: shown once, stored hashed with a visible prefix, scoped, revocable, last use kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import ApiKey, User
from core.errors import Conflict, InvalidInput, NotFound
from core.security import tokens
from core.security.device import Device
from core.services import api_keys
from core.services.authconfig import AuthConfig
from core.services.lockout import AuthenticationFailed
from tests.security.conftest import signed_up_and_in


async def test_create_use_and_revoke(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "ops@example.com")
    created = await api_keys.create_api_key(db, me.actor, "grafana", ["read"], auth=auth)
    assert created.key.startswith(created.info.prefix + "_") and len(created.info.prefix) == 12
    assert created.key not in repr(created)
    async with db.session() as s:
        row = await s.scalar(select(ApiKey))
    assert row.key_hash == tokens.hash_token(created.key) and created.key not in (
        row.key_hash,
        row.key_prefix,
    )
    clock.advance(minutes=5)
    actor = await api_keys.authenticate_api_key(db, created.key, scope="read", auth=auth)
    assert actor.user_id == me.actor.user_id
    with pytest.raises(AuthenticationFailed, match="lacks the 'trade' scope"):
        await api_keys.authenticate_api_key(db, created.key, scope="trade", auth=auth)
    [listed] = await api_keys.list_api_keys(db, me.actor)
    assert listed.last_used_at == clock.now() and listed.scopes == ("read",)
    with pytest.raises(Conflict, match="already have an active key named"):
        await api_keys.create_api_key(db, me.actor, "grafana", ["read"], auth=auth)
    await api_keys.revoke_api_key(db, me.actor, created.info.id, auth)
    with pytest.raises(AuthenticationFailed, match="not valid"):
        await api_keys.authenticate_api_key(db, created.key, auth=auth)
    with pytest.raises(Conflict):
        await api_keys.revoke_api_key(db, me.actor, created.info.id, auth)


async def test_expiry_bad_input_and_disabled_accounts(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "exp@example.com")
    for name, scopes, days in (
        ("", ["read"], None),
        ("x", [], None),
        ("x", ["root"], None),
        ("x", ["read"], 0),
        ("x", "read", None),
    ):
        with pytest.raises(InvalidInput):
            await api_keys.create_api_key(db, me.actor, name, scopes, days, auth=auth)
    short = await api_keys.create_api_key(db, me.actor, "ci", ["bots", "read"], 1, auth=auth)
    assert short.info.scopes == ("bots", "read")
    clock.advance(days=1)
    with pytest.raises(AuthenticationFailed):
        await api_keys.authenticate_api_key(db, short.key, auth=auth)
    live = await api_keys.create_api_key(db, me.actor, "live", ["trade"], auth=auth)
    async with db.session() as s, s.begin():
        await s.execute(update(User).values(status="banned", banned_at=clock.now()))
    with pytest.raises(AuthenticationFailed, match="can't be used"):
        await api_keys.authenticate_api_key(db, live.key, auth=auth)
    for junk in ("", "bbx_", "nope", "bbx_" + "x" * 300):
        with pytest.raises(AuthenticationFailed):
            await api_keys.authenticate_api_key(db, junk, auth=auth)


async def test_users_cannot_see_or_revoke_each_others_keys(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    a = await signed_up_and_in(db, auth, device, "a@example.com")
    b = await signed_up_and_in(db, auth, device, "b@example.com")
    b_key = await api_keys.create_api_key(db, b.actor, "bot", ["bots"], auth=auth)
    assert await api_keys.list_api_keys(db, a.actor) == []
    with pytest.raises(NotFound):
        await api_keys.revoke_api_key(db, a.actor, b_key.info.id, auth)
    assert (
        await api_keys.authenticate_api_key(db, b_key.key, auth=auth)
    ).user_id == b.actor.user_id
