"""A change of role, a ban or a suspension takes effect on the next call of an open session.

Each admin-only service is called with the Actor the admin signed in with (role ``admin``)
after a superadmin demoted, banned or suspended them: every call is refused, because the
service re-reads the account instead of trusting the role carried by the Actor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.backtest.sources import simulated_candles
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import User
from core.errors import Forbidden
from core.services import (
    accounts,
    admin,
    api_keys,
    backtests,
    defi,
    engine_status,
    help,
    notifications,
    plans,
    privacy,
    signals,
    support,
)
from core.services.actor import Actor, Role, recheck
from core.services.lockout import AuthenticationFailed
from tests.service_users import add_user

Call = Callable[[Database, Actor, str], Awaitable[object]]


async def _in_session(db: Database, work: Callable[..., Awaitable[object]]) -> object:
    async with db.sessions.begin() as s:
        return await work(s)


ADMIN_ONLY: dict[str, Call] = {
    "accounts.create_account(role=admin)": lambda db, a, t: accounts.create_account(
        db, a, email="new.admin@example.com", password="a long pass phrase 42", role=Role.ADMIN
    ),
    "accounts.issue_reset_token": lambda db, a, t: accounts.issue_reset_token(
        db, a, "victim@example.com"
    ),
    "support.list_tickets(everyone)": lambda db, a, t: _in_session(
        db, lambda s: support.list_tickets(s, a, everyone=True)
    ),
    "support.list_tickets(assigned_to_me)": lambda db, a, t: _in_session(
        db, lambda s: support.list_tickets(s, a, assigned_to_me=True)
    ),
    "support.assign_ticket": lambda db, a, t: _in_session(
        db, lambda s: support.assign_ticket(s, a, t, None)
    ),
    "support.set_status": lambda db, a, t: _in_session(
        db, lambda s: support.set_status(s, a, t, "closed")
    ),
    "support.set_priority": lambda db, a, t: _in_session(
        db, lambda s: support.set_priority(s, a, t, "high")
    ),
    "support.count_open": lambda db, a, t: _in_session(db, lambda s: support.count_open(s, a)),
    "help.set_published": lambda db, a, t: _in_session(
        db, lambda s: help.set_published(s, a, "any-article", True)
    ),
    "defi.register_pool": lambda db, a, t: _in_session(
        db,
        lambda s: defi.register_pool(
            s,
            a,
            protocol="uniswap-v3",
            chain="ethereum",
            token0_symbol="WETH",
            token0_address="0x" + "1" * 40,
            token1_symbol="USDC",
            token1_address="0x" + "2" * 40,
        ),
    ),
    "notifications.list_failed_deliveries": lambda db, a, t: _in_session(
        db, lambda s: notifications.list_failed_deliveries(s, a)
    ),
    "signals.list_providers(everyone)": lambda db, a, t: signals.list_providers(
        db, a, everyone=True
    ),
    "signals.create_provider(system)": lambda db, a, t: signals.create_provider(
        db, a, name="System feed", type="webhook", system=True
    ),
    "plans.grant_complimentary": lambda db, a, t: _in_session(
        db,
        lambda s: plans.grant_complimentary(s, a, "placeholder", "pro", days=30, reason="support"),
    ),
    "privacy.request_export(another user)": lambda db, a, t: privacy.request_export(
        db, a, "all", for_user_id="placeholder"
    ),
    "admin.search_users": lambda db, a, t: _in_session(
        db, lambda s: admin.search_users(s, a, "victim")
    ),
    "admin.ban_user": lambda db, a, t: _in_session(
        db, lambda s: admin.ban_user(s, a, t, reason="takeover")
    ),
    "admin.list_audit_logs": lambda db, a, t: _in_session(
        db, lambda s: admin.list_audit_logs(s, a)
    ),
    "admin.block_ip": lambda db, a, t: _in_session(
        db, lambda s: admin.block_ip(s, a, "203.0.113.7", reason="r")
    ),
    "admin.update_system_settings": lambda db, a, t: _in_session(
        db, lambda s: admin.update_system_settings(s, a, registrations_open=False)
    ),
    "backtests.import_dataset": lambda db, a, t: _in_session(
        db,
        lambda s: backtests.import_dataset(
            s,
            a,
            "BTC/USDT",
            "1h",
            simulated_candles(
                "BTC/USDT", "1h", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
            ),
        ),
    ),
}


async def _cast(db: Database) -> tuple[Actor, Actor, str]:
    """A superadmin, an admin (as signed in) and an ordinary user."""
    sue = await add_user(db, "sue@example.com", role=Role.SUPERADMIN)
    adam = await add_user(db, "adam@example.com", role=Role.ADMIN)
    victim = await add_user(db, "victim@example.com")
    return sue, adam, victim.user_id


async def _demote(db: Database, sue: Actor, adam: Actor, how: str) -> None:
    async with db.sessions.begin() as s:
        if how == "demoted":
            await admin.change_role(s, sue, adam.user_id, "user")
        elif how == "banned":
            await admin.ban_user(s, sue, adam.user_id, reason="abuse")
        else:
            until = datetime.now(UTC) + timedelta(days=1)
            await admin.suspend_user(s, sue, adam.user_id, until=until, reason="review")


@pytest.mark.parametrize("how", ["demoted", "banned", "suspended"])
@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
async def test_admin_powers_end_on_the_next_call(db: Database, name: str, how: str) -> None:
    sue, adam, victim = await _cast(db)
    call = ADMIN_ONLY[name]
    await _demote(db, sue, adam, how)
    assert adam.role is Role.ADMIN  # the Actor the open session still holds
    with pytest.raises(Forbidden):
        await call(db, adam, victim)


async def test_the_admin_only_calls_work_for_a_current_admin(db: Database) -> None:
    """The refusals above come from the re-check, not from calls that fail for anyone."""
    _sue, adam, _victim = await _cast(db)
    async with db.sessions.begin() as s:
        assert [u.email for u in await admin.search_users(s, adam, "victim")] == [
            "victim@example.com"
        ]
        assert await support.count_open(s, adam) == 0
    made = await accounts.create_account(
        db, adam, email="new.admin@example.com", password="a long pass phrase 42", role="admin"
    )
    assert made.role is Role.ADMIN
    assert (await accounts.issue_reset_token(db, adam, "victim@example.com")).token
    assert await signals.list_providers(db, adam, everyone=True) == []


async def test_a_promotion_takes_effect_without_signing_in_again(db: Database) -> None:
    sue, _, _victim = await _cast(db)
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden):
            await support.count_open(s, bob)
        await admin.change_role(s, sue, bob.user_id, "admin")
    async with db.sessions.begin() as s:
        assert await support.count_open(s, bob) == 0
        assert (await recheck(s, bob)).role is Role.ADMIN


async def test_a_banned_users_ordinary_calls_are_refused(db: Database) -> None:
    sue, _, _ = await _cast(db)
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        ticket = await support.open_ticket(
            s, bob, subject="Help", category="general", message="Where are my funds?"
        )
    key = await api_keys.create_api_key(db, bob, name="script", scopes=["read"])
    async with db.sessions.begin() as s:
        await admin.ban_user(s, sue, bob.user_id, reason="fraud")
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match="banned: fraud"):
            await support.get_ticket(s, bob, ticket.id)
        with pytest.raises(Forbidden, match="banned"):
            await engine_status.engine_status(s, bob, now=datetime.now(UTC), cycle_seconds=60.0)
    with pytest.raises(AuthenticationFailed):
        await api_keys.authenticate_api_key(db, key.key)


async def test_a_demoted_admin_no_longer_sees_drafts_or_everyones_tickets(db: Database) -> None:
    sue, adam, victim = await _cast(db)
    bob = Actor(user_id=victim)
    async with db.sessions.begin() as s:
        await support.open_ticket(
            s, bob, subject="Help", category="general", message="Where are my funds?"
        )
        assert len(await support.list_tickets(s, adam, everyone=True)) == 1
        await admin.change_role(s, sue, adam.user_id, "user")
    async with db.sessions.begin() as s:
        assert await support.list_tickets(s, adam) == []  # only their own
        with pytest.raises(Forbidden):
            await support.list_tickets(s, adam, everyone=True)


async def test_a_ban_ends_the_users_sessions(db: Database) -> None:
    from core.services import sessions
    from tests.tui.auth_helpers import DEVICE, PASSWORD, make_auth

    auth = make_auth(FrozenClock(datetime.now(UTC)))
    sue, _, _ = await _cast(db)
    await accounts.register(
        db, email="bob@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    step = await accounts.login(
        db, email="bob@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    actor = step.session.actor
    assert await sessions.current(db, actor, auth) == actor
    async with db.sessions.begin() as s:
        await admin.ban_user(s, sue, actor.user_id, reason="fraud")
    assert await sessions.current(db, actor, auth) is None


async def test_a_demoted_superadmin_can_no_longer_act_as_another_user(db: Database) -> None:
    """No superadmin can demote another, so the operator does it in the database."""
    await _cast(db)
    root = await add_user(db, "root@example.com", role=Role.SUPERADMIN)
    assert (await signals.user_actor(db, root, "victim@example.com")).role is Role.USER
    async with db.sessions.begin() as s:
        await s.execute(update(User).where(User.id == root.user_id).values(role="admin"))
    with pytest.raises(Forbidden, match="superadmin"):
        await signals.user_actor(db, root, "victim@example.com")
