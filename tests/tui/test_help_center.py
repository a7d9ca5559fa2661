"""Help center: search as you type, open an article (its view counted) or a FAQ; snapshot."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import Markdown, OptionList

from core.db.engine import Database
from core.db.models.support import HelpArticle
from core.seed import seed_reference_data
from core.services.actor import Actor
from tests.service_users import add_user
from tests.tui.auth_helpers import wait_for
from tests.tui.screen_helpers import WIDE, ScreenApp, no_blink, seed, settle
from tui.screens.help_center import HelpCenterScreen


async def _help(db: Database) -> Actor:
    await seed_reference_data(db)
    return await add_user(db, "ann@example.com", id="ann0000000000000000000001")


def _options(app: ScreenApp) -> list[str]:
    listing = app.screen.query_one("#help-list", OptionList)
    return [str(o.prompt).strip() for o in listing.options]


async def test_search_and_read(db: Database, migrated_url: str) -> None:
    me = await _help(db)
    app = ScreenApp(migrated_url, me, HelpCenterScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        everything = _options(app)
        assert "Frequently asked" in everything and len(everything) > 20
        await pilot.press("slash", *"authenticator")
        await wait_for(pilot, lambda: len(_options(app)) < len(everything), what="search")
        found = _options(app)
        assert any("Two-factor" in o for o in found)
        assert len(found) < len(everything)
        await pilot.press("enter")  # from the search box to the list
        listing = app.screen.query_one("#help-list", OptionList)
        slug_index = next(i for i, o in enumerate(listing.options) if (o.id or "").startswith("a:"))
        listing.highlighted = slug_index
        await pilot.press("enter")
        await settle(pilot)
        reader = app.screen.query_one("#reader", Markdown)
        assert reader.source.startswith("# ") and "authenticator" in reader.source.lower()
        slug = listing.options[slug_index].id[2:]  # type: ignore[index]
    async with db.session() as s:
        views = await s.scalar(select(HelpArticle.views).where(HelpArticle.slug == slug))
    assert views == 1


def test_help_center_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _help)

    async def read_first(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(
        ScreenApp(migrated_url, me, HelpCenterScreen), terminal_size=WIDE, run_before=read_first
    )
