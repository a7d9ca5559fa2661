"""Marketplace, Plan & billing and Referrals are main screens of the signed-in dashboard."""

from __future__ import annotations

from pathlib import Path

from core.db.engine import Database
from core.services import accounts
from tests.tui.auth_helpers import (
    DEVICE,
    PASSWORD,
    make_app,
    make_auth,
    settle,
    type_into,
    wait_for,
)
from tui.screens.marketplace import MarketplaceScreen
from tui.screens.plans import PlansScreen
from tui.screens.referrals import ReferralsScreen


async def test_function_keys_open_the_commerce_screens(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    await accounts.register(
        db, email="shop@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "shop@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        for key, screen in (
            ("f7", MarketplaceScreen),
            ("f8", PlansScreen),
            ("f9", ReferralsScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen), (key, app.screen)


async def test_signed_in_app_toasts_new_notifications(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from core.db.models.notifications import NotificationPriority, NotificationType
    from core.db.models.users import User
    from core.notifications import notify

    auth = make_auth()
    await accounts.register(
        db, email="toast@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    async with db.session() as s:
        user_id = await s.scalar(select(User.id).where(User.email == "toast@example.com"))
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "toast@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        async with db.sessions.begin() as s:
            await notify(
                s, user_id=user_id, type=NotificationType.TAKE_PROFIT_HIT,
                priority=NotificationPriority.HIGH, title="Take-profit hit on ETH/USDT",
                message="Sold.",
            )  # fmt: skip
        await wait_for(
            pilot,
            lambda: any(
                "Take-profit hit on ETH/USDT" in str(n.message) for n in app._notifications
            ),
            what="the toast",
        )
