"""The help center: seeded idempotently, read by everyone, searched, drafts for admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.support import FAQ, HelpArticle
from core.errors import Forbidden, InvalidInput, NotFound
from core.seed import seed_reference_data
from core.seed.help import ARTICLES, FAQS
from core.services import help
from core.services.actor import Role
from tests.service_users import add_user


async def test_seed_twice_search_read_and_publish(db: Database) -> None:
    bob = await add_user(db, "bob@example.com")
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    await seed_reference_data(db)
    async with db.session() as s:
        first_faq_ids = set(await s.scalars(select(FAQ.id)))
    await seed_reference_data(db)
    async with db.sessions.begin() as s:
        assert await s.scalar(select(func.count()).select_from(HelpArticle)) == len(ARTICLES)
        assert set(await s.scalars(select(FAQ.id))) == first_faq_ids and len(first_faq_ids) == len(
            FAQS
        )

        cats = await help.list_categories(s, bob)
        assert cats[0].slug == "getting-started" and sum(c.articles for c in cats) == len(ARTICLES)
        assert {a.slug for a in await help.list_articles(s, bob, category="notifications")} == {
            "notification-channels",
            "quiet-hours-digest",
        }
        # stemming: "exporting" finds the export article; "telegram" finds the channels article
        assert (await help.search_help(s, bob, "exporting my data")).articles[
            0
        ].slug == "export-data"
        found = await help.search_help(s, bob, "Telegram")
        assert "notification-channels" in {a.slug for a in found.articles}
        assert any(
            "2FA" in f.answer or "authenticator" in f.question
            for f in (await help.search_help(s, bob, "authenticator")).faqs
        )
        assert (
            await help.search_help(s, bob, "100%_")
        ).articles == ()  # LIKE wildcards are literal

        first = await help.get_article(s, bob, "first-start")
        again = await help.get_article(s, bob, "first-start")
        assert again.views == first.views + 1 and "blockbotx" in first.content

        with pytest.raises(Forbidden):
            await help.set_published(s, bob, "first-start", False)
        await help.set_published(s, admin, "first-start", False)
        with pytest.raises(NotFound):
            await help.get_article(s, bob, "first-start")
        assert (await help.get_article(s, admin, "first-start")).published is False
        assert "first-start" not in {a.slug for a in await help.list_articles(s, bob)}
        assert len(await help.list_faqs(s, bob, category="security")) == 2
        with pytest.raises(InvalidInput):
            await help.search_help(s, bob, "   ")
    # a re-seed publishes shipped content again, keeping the view count
    await seed_reference_data(db)
    async with db.session() as s:
        back = await help.get_article(s, bob, "first-start")
        assert back.published and back.views == again.views + 2  # the admin read it too
