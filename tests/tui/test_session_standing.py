"""The open dashboard's session check sees a ban and a change of role made elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import FrozenClock
from core.db.engine import Database
from core.services import accounts, admin
from core.services.actor import Actor, Role
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_app, make_auth, screen_text, wait_for
from tui.screens.login import LoginScreen
from tui.screens.overview import OverviewScreen


@pytest.mark.parametrize(
    ("change", "notice"),
    [("ban", "banned or suspended"), ("demote", "now user; sign in again")],
)
async def test_the_open_dashboard_signs_out_a_banned_or_demoted_admin(
    db: Database, migrated_url: str, tmp_path: Path, change: str, notice: str
) -> None:
    auth = make_auth(FrozenClock())
    await accounts.register(
        db, email="sue@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    sue = (
        await accounts.login(
            db, email="sue@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
    ).session.actor
    made = await accounts.create_account(
        db, sue, email="adam@example.com", password=PASSWORD, role=Role.ADMIN, auth=auth
    )
    adam = (
        await accounts.login(
            db, email="adam@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
    ).session
    app = make_app(migrated_url, tmp_path, auth)
    app.remembered.save(adam.refresh_token)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), what="overview")
        assert app.actor is not None and app.actor.is_admin
        async with db.sessions.begin() as s:
            superadmin = Actor(user_id=sue.user_id, role=Role.SUPERADMIN)
            if change == "ban":
                await admin.ban_user(s, superadmin, made.id, reason="abuse")
            else:
                await admin.change_role(s, superadmin, made.id, "user")
        app._check_session()  # what the app's timer runs every few seconds
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="login screen")
        assert app.actor is None
        assert notice in screen_text(app)
        assert app.remembered.load() is None
