"""Templates: system templates seeded for every bot type (idempotently), who sees which,
deploying with customisations through the bots service, saving a bot as a template."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.templates import BotTemplate, TemplateDeployment
from core.errors import InvalidInput, NotFound
from core.seed import seed_reference_data
from core.services import templates
from core.services.bots import BotSpec, create_bot
from core.strategies.registry import BOT_CONFIGS, validate_bot_config, validate_risk_settings
from tests.service_users import add_user


async def seeded(db: Database) -> None:
    async with db.sessions.begin() as s:
        await templates.seed_system_templates(s)


async def test_seeding_covers_every_bot_type_validly_and_is_idempotent(db: Database) -> None:
    await seed_reference_data(db)
    await seed_reference_data(db)
    async with db.session() as s:
        rows = list(await s.scalars(select(BotTemplate)))
    assert len(rows) == len(templates.SYSTEM_TEMPLATES)
    assert {r.type for r in rows} == set(BOT_CONFIGS)
    for row in rows:
        assert row.user_id is None and row.visibility == "public"
        assert row.complexity in templates.COMPLEXITIES and row.category in templates.CATEGORIES
        assert row.tags and row.description
        validate_bot_config(row.type, row.config)
        validate_risk_settings(row.default_settings["risk_settings"])
    names = {r.name for r in rows}
    assert {"Beginner DCA — Bitcoin", "RSI reversal signals", "ETH range grid",
            "AI trend predictor", "Pump screener — small caps",
            "Cross-market arbitrage"} <= names  # fmt: skip
    # A reseed refreshes the settings but keeps the usage counts.
    async with db.sessions.begin() as s:
        row = await s.scalar(select(BotTemplate).where(BotTemplate.name == "ETH range grid"))
        assert row is not None
        row.usage_count, row.config = 7, {"tampered": True}
    await seed_reference_data(db)
    async with db.session() as s:
        row = await s.scalar(select(BotTemplate).where(BotTemplate.name == "ETH range grid"))
        assert row is not None and row.usage_count == 7 and row.config["symbol"] == "ETH/USDT"


async def test_deploy_creates_a_validated_bot_with_the_customisations(db: Database) -> None:
    await seeded(db)
    ann = await add_user(db, "ann@example.com")
    async with db.session() as s:
        (grid,) = await templates.list_templates(s, ann, search="range grid")
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match=r"lower_price \(3700\) must be below"):
            await templates.deploy_template(s, ann, grid.id, name="Mine",
                                            config={"lower_price": "3700"})  # fmt: skip
        with pytest.raises(InvalidInput, match="Name can't be empty"):
            await templates.deploy_template(s, ann, grid.id, name="  ")
    async with db.sessions.begin() as s:
        done = await templates.deploy_template(
            s, ann, grid.id, name="My ETH grid",
            config={"grid_count": 10, "quote_per_grid": "25"},
            risk_settings={"stop_loss_percent": "15"},
        )  # fmt: skip
    async with db.session() as s:
        bot = await s.get(Bot, done.bot_id)
        assert bot is not None and bot.user_id == ann.user_id and bot.name == "My ETH grid"
        assert bot.type == "grid" and bot.paper_trading and bot.status == "inactive"
        assert bot.config["grid_count"] == 10 and Decimal(bot.config["quote_per_grid"]) == 25
        assert bot.config["lower_price"] == grid.config["lower_price"]  # the rest is kept
        assert bot.risk_settings == {"stop_loss_percent": "15"}
        (deployment,) = await s.scalars(select(TemplateDeployment))
        assert deployment.customization == {
            "name": "My ETH grid",
            "config": {"grid_count": 10, "quote_per_grid": "25"},
            "risk_settings": {"stop_loss_percent": "15"},
        }
        assert (await templates.get_template(s, ann, grid.id)).usage_count == 1
        assert [d.bot_id for d in await templates.list_deployments(s, ann)] == [done.bot_id]


async def test_featured_first_and_who_sees_which(db: Database) -> None:
    await seeded(db)
    ann = await add_user(db, "ann@example.com")
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        bot = await create_bot(s, ann, BotSpec(name="Ann's DCA", type="dca",
                                               risk_settings={"stop_loss_percent": "9"}))  # fmt: skip
        private = await templates.save_bot_as_template(
            s, ann, bot.id, name="Secret sauce", description="Ann's own", tags=["Mine", "mine"]
        )
        public = await templates.save_bot_as_template(
            s, ann, bot.id, name="Shared sauce", description="For all", visibility="public"
        )
    assert private.tags == ("mine",) and private.risk_settings == {"stop_loss_percent": "9"}
    async with db.session() as s:
        ann_names = [t.name for t in await templates.list_templates(s, ann)]
        bob_names = [t.name for t in await templates.list_templates(s, bob)]
        listed = await templates.list_templates(s, bob)
    assert "Secret sauce" in ann_names and "Secret sauce" not in bob_names
    assert "Shared sauce" in bob_names
    flags = [t.featured for t in listed]
    assert flags == sorted(flags, reverse=True) and flags[0]  # featured first
    async with db.sessions.begin() as s:
        with pytest.raises(NotFound):
            await templates.get_template(s, bob, private.id)
        with pytest.raises(NotFound):
            await templates.deploy_template(s, bob, private.id, name="Stolen")
        with pytest.raises(NotFound):
            await templates.delete_template(s, bob, public.id)
        with pytest.raises(NotFound):  # system templates belong to nobody
            await templates.delete_template(s, ann, listed[0].id)
        with pytest.raises(NotFound):
            await templates.save_bot_as_template(s, bob, bot.id, name="x", description="y")
        with pytest.raises(InvalidInput, match="Visibility"):
            await templates.set_template_visibility(s, ann, private.id, "friends")
        await templates.set_template_visibility(s, ann, private.id, "public")
    async with db.session() as s:
        assert "Secret sauce" in [t.name for t in await templates.list_templates(s, bob)]
    async with db.sessions.begin() as s:
        await templates.delete_template(s, ann, private.id)
        assert await s.scalar(select(func.count()).select_from(Bot)) == 1  # the bot stays


async def test_filters_and_bad_filters(db: Database) -> None:
    await seeded(db)
    ann = await add_user(db, "ann@example.com")
    async with db.session() as s:
        beginner = await templates.list_templates(s, ann, complexity="beginner")
        assert beginner and all(t.complexity == "beginner" for t in beginner)
        arbitrage = await templates.list_templates(s, ann, category="arbitrage")
        assert [t.type for t in arbitrage] == ["arbitrage"]
        tagged = await templates.list_templates(s, ann, search="mean-reversion")  # a tag
        assert [t.type for t in tagged] == ["signal"]
        assert [t.type for t in await templates.list_templates(s, ann, bot_type="ai")] == ["ai"]
        with pytest.raises(InvalidInput, match="Complexity"):
            await templates.list_templates(s, ann, complexity="expert")
        with pytest.raises(InvalidInput):
            await templates.list_templates(s, ann, limit=0)
