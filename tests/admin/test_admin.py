"""Admin services: every function refuses non-admins, every change lands in audit_logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog, SecurityLog
from core.db.models.users import User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.services import admin
from core.services.actor import Actor, Role
from tests.service_users import add_user


@pytest.fixture
async def cast(db: Database) -> dict[str, Actor]:
    return {
        "bob": await add_user(db, "bob@example.com", first_name="Bob", last_name="Trader"),
        "eve": await add_user(db, "eve@example.com"),
        "adam": await add_user(db, "adam@example.com", role=Role.ADMIN),
        "ada": await add_user(db, "ada@example.com", role=Role.ADMIN),
        "sue": await add_user(db, "sue@example.com", role=Role.SUPERADMIN),
    }


async def actions(db: Database) -> list[str]:
    async with db.session() as s:
        return list(
            await s.scalars(select(AuditLog.action).order_by(AuditLog.created_at, AuditLog.id))
        )


def every_admin_call(s, who: Actor, target: str, clock: FrozenClock):  # type: ignore[no-untyped-def]
    later = clock.now() + timedelta(days=1)
    return [
        admin.search_users(s, who, "bob"),
        admin.get_user(s, who, target),
        admin.suspend_user(s, who, target, until=later, reason="r", clock=clock),
        admin.ban_user(s, who, target, reason="r", clock=clock),
        admin.unban_user(s, who, target, clock=clock),
        admin.force_password_reset(s, who, target, clock=clock),
        admin.change_role(s, who, target, "admin", clock=clock),
        admin.add_note(s, who, target, "note", clock=clock),
        admin.list_notes(s, who, target),
        admin.list_audit_logs(s, who),
        admin.list_security_logs(s, who),
        admin.block_ip(s, who, "203.0.113.7", reason="r", clock=clock),
        admin.unblock_ip(s, who, "203.0.113.7", clock=clock),
        admin.list_blocked_ips(s, who, clock=clock),
        admin.update_system_settings(s, who, maintenance_mode=True, clock=clock),
    ]


async def test_non_admins_are_refused_everything(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    async with db.sessions.begin() as s:
        for call in every_admin_call(s, cast["bob"], cast["eve"].user_id, clock):
            with pytest.raises(Forbidden, match=r"administrator|superadmin"):
                await call
        # a user claiming a role the database doesn't give them gets nowhere either
        forged = Actor(user_id=cast["bob"].user_id, role=Role.SUPERADMIN)
        for call in every_admin_call(s, forged, cast["eve"].user_id, clock):
            with pytest.raises(Forbidden):
                await call
    assert await actions(db) == []


async def test_demoted_admin_loses_access_at_once(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    async with db.sessions.begin() as s:
        await admin.change_role(s, cast["sue"], cast["adam"].user_id, "user", clock=clock)
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden):
            await admin.search_users(s, cast["adam"])  # his Actor still says admin


async def test_user_moderation_is_audited(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    adam, bob = cast["adam"], cast["bob"]
    async with db.sessions.begin() as s:
        assert [u.email for u in await admin.search_users(s, adam, "TRADER")] == ["bob@example.com"]
        assert [u.email for u in await admin.search_users(s, adam, role="superadmin")] == [
            "sue@example.com"
        ]
        until = clock.now() + timedelta(days=3)
        u = await admin.suspend_user(
            s, adam, bob.user_id, until=until, reason="Chargeback dispute", clock=clock
        )
        assert (u.status, u.suspended_until, u.suspended_reason) == (
            "suspended",
            until,
            "Chargeback dispute",
        )
        u = await admin.ban_user(s, adam, bob.user_id, reason="Fraud", clock=clock)
        assert (u.status, u.banned_at, u.banned_reason, u.suspended_until) == (
            "banned",
            clock.now(),
            "Fraud",
            None,
        )
        with pytest.raises(Conflict):
            await admin.ban_user(s, adam, bob.user_id, reason="again", clock=clock)
        u = await admin.unban_user(s, adam, bob.user_id, clock=clock)
        assert (u.status, u.banned_at, u.banned_reason) == ("active", None, None)
        u = await admin.force_password_reset(s, adam, bob.user_id, clock=clock)
        assert u.force_password_reset
        note = await admin.add_note(
            s, adam, bob.user_id, "Called about the refund", category="billing", clock=clock
        )
        assert [n.id for n in await admin.list_notes(s, adam, bob.user_id)] == [note.id]
        stored = await s.get(User, bob.user_id)
        assert stored.banned_by is None and stored.force_password_reset
    assert sorted(await actions(db)) == [
        "admin_note_added",
        "admin_password_reset_forced",
        "admin_user_banned",
        "admin_user_suspended",
        "admin_user_unbanned",
    ]
    async with db.session() as s:
        entries = await admin.list_audit_logs(s, adam, action="admin_user_suspended")
    assert entries[0].user_id == adam.user_id
    assert entries[0].details == {
        "target_user_id": bob.user_id,
        "until": (clock.now() + timedelta(days=3)).isoformat(),
        "reason": "Chargeback dispute",
    }


async def test_ranks(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    adam, ada, sue = cast["adam"], cast["ada"], cast["sue"]
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden, match="own account"):
            await admin.ban_user(s, adam, adam.user_id, reason="x", clock=clock)
        with pytest.raises(Forbidden, match="admin can't change the account of a admin"):
            await admin.ban_user(s, adam, ada.user_id, reason="x", clock=clock)
        with pytest.raises(Forbidden, match="superadmin"):
            await admin.change_role(s, adam, cast["bob"].user_id, "admin", clock=clock)
        with pytest.raises(Forbidden, match="own account"):
            await admin.change_role(s, sue, sue.user_id, "user", clock=clock)
        promoted = await admin.change_role(s, sue, cast["bob"].user_id, "admin", clock=clock)
        assert promoted.role == "admin"
        suspended = await admin.suspend_user(
            s,
            sue,
            ada.user_id,
            until=datetime.now(UTC) + timedelta(hours=1),  # acting is checked on the real clock
            reason="Review",
            clock=clock,
        )
        assert suspended.status == "suspended"
        with pytest.raises(InvalidInput, match="role"):
            await admin.change_role(s, sue, cast["eve"].user_id, "owner", clock=clock)
    async with db.sessions.begin() as s:
        with pytest.raises(Forbidden):  # a suspended admin has no admin powers
            await admin.search_users(s, ada)


async def test_bad_input_and_missing_targets(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    adam, bob = cast["adam"], cast["bob"]
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="reason"):
            await admin.ban_user(s, adam, bob.user_id, reason="  ", clock=clock)
        with pytest.raises(InvalidInput, match="future"):
            await admin.suspend_user(
                s, adam, bob.user_id, until=clock.now(), reason="r", clock=clock
            )
        with pytest.raises(InvalidInput, match="time zone"):
            await admin.suspend_user(
                s,
                adam,
                bob.user_id,
                until=clock.now().replace(tzinfo=None),
                reason="r",
                clock=clock,
            )
        with pytest.raises(NotFound):
            await admin.ban_user(s, adam, "ghost", reason="r", clock=clock)
        with pytest.raises(InvalidInput, match="category"):
            await admin.add_note(s, adam, bob.user_id, "x", category="gossip", clock=clock)
        with pytest.raises(InvalidInput, match="not an IPv4 or IPv6"):
            await admin.block_ip(s, adam, "300.1.1.1", reason="r", clock=clock)
        assert (await s.get(User, bob.user_id)).status == "active"
    assert await actions(db) == []


async def test_ip_blocklist_with_expiry(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    adam = cast["adam"]
    async with db.sessions.begin() as s:
        b = await admin.block_ip(
            s,
            adam,
            " 2001:DB8::1 ",
            reason="Credential stuffing",
            expires_at=clock.now() + timedelta(hours=2),
            clock=clock,
        )
        assert b.ip_address == "2001:db8::1" and b.created_by == adam.user_id
        await admin.block_ip(s, adam, "203.0.113.7", reason="Scanner", clock=clock)
        assert {x.ip_address for x in await admin.list_blocked_ips(s, adam, clock=clock)} == {
            "2001:db8::1",
            "203.0.113.7",
        }
        clock.advance(hours=3)
        assert [x.ip_address for x in await admin.list_blocked_ips(s, adam, clock=clock)] == [
            "203.0.113.7"
        ]
        assert len(await admin.list_blocked_ips(s, adam, include_expired=True, clock=clock)) == 2
        again = await admin.block_ip(s, adam, "2001:db8::1", reason="Back again", clock=clock)
        assert again.expires_at is None and again.reason == "Back again"
        await admin.unblock_ip(s, adam, "203.0.113.7", clock=clock)
        with pytest.raises(NotFound):
            await admin.unblock_ip(s, adam, "203.0.113.7", clock=clock)
        with pytest.raises(InvalidInput, match="future"):
            await admin.block_ip(
                s, adam, "198.51.100.1", reason="r", expires_at=clock.now(), clock=clock
            )
    assert sorted(await actions(db)) == ["admin_ip_blocked"] * 3 + ["admin_ip_unblocked"]


async def test_security_log_filters(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    async with db.sessions.begin() as s:
        for minutes, type_, ip in (
            (1, "auth_failure", "203.0.113.7"),
            (2, "rate_limit", "203.0.113.7"),
            (3, "auth_failure", "198.51.100.2"),
        ):
            s.add(
                SecurityLog(
                    type=type_,
                    ip_address=ip,
                    user_agent="ssh",
                    created_at=clock.now() + timedelta(minutes=minutes),
                )
            )
    async with db.session() as s:
        adam = cast["adam"]
        assert len(await admin.list_security_logs(s, adam, type="auth_failure")) == 2
        assert [
            e.type for e in await admin.list_security_logs(s, adam, ip_address="203.0.113.7")
        ] == ["rate_limit", "auth_failure"]
        window = await admin.list_security_logs(
            s,
            adam,
            since=clock.now() + timedelta(minutes=2),
            until=clock.now() + timedelta(minutes=3),
        )
        assert [e.type for e in window] == ["rate_limit"]


async def test_system_settings(db: Database, cast: dict[str, Actor]) -> None:
    clock = FrozenClock()
    async with db.sessions.begin() as s:
        assert (await admin.read_system_settings(s)).maintenance_mode is False
        shown = await admin.update_system_settings(
            s,
            cast["adam"],
            maintenance_mode=True,
            maintenance_message=" Upgrading the database ",
            registrations_open=False,
            clock=clock,
        )
        assert (shown.maintenance_mode, shown.maintenance_message, shown.registrations_open) == (
            True,
            "Upgrading the database",
            False,
        )
        assert shown.updated_by == cast["adam"].user_id
        with pytest.raises(InvalidInput, match="Nothing to change"):
            await admin.update_system_settings(s, cast["adam"], clock=clock)
    async with db.session() as s:
        (entry,) = await admin.list_audit_logs(
            s, cast["adam"], action="admin_system_settings_changed"
        )
    assert entry.details == {
        "maintenance_mode": True,
        "maintenance_message": "Upgrading the database",
        "registrations_open": False,
    }
