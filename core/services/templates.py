"""Bot templates: the system's ready-made bots (seeded for every bot type), templates users save
from their own bots (private, or public for everyone), and deploying one as a new bot.

A template's ``config`` is a bot config of its ``type`` and its ``default_settings`` hold
``risk_settings`` and ``paper_trading``; both are validated through the strategy registry
before they are stored. Deploying merges the user's customisations over them (nested settings
merge key by key, lists are replaced), validates the result, creates the bot through the bots
service, records a ``template_deployments`` row and counts the use. Users see system templates,
public ones and their own private ones; featured templates come first, then the most used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import any_, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.bots import Bot
from core.db.models.templates import BotTemplate, TemplateDeployment
from core.errors import Conflict, InvalidInput, NotFound
from core.services.actor import Actor, get_owned
from core.strategies.registry import validate_bot_config, validate_risk_settings

CATEGORIES = ("trading", "defi", "arbitrage")
COMPLEXITIES = ("beginner", "intermediate", "advanced")
VISIBILITIES = ("private", "public")
NAME_MAX = 100
DESCRIPTION_MAX = 2000
TAGS_MAX = 12
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class TemplateView:
    id: str
    name: str
    description: str
    category: str
    type: str
    complexity: str
    visibility: str
    config: dict[str, Any]
    risk_settings: dict[str, Any]
    paper_trading: bool
    tags: tuple[str, ...]
    usage_count: int
    featured: bool
    is_system: bool
    is_mine: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BotDraft:
    """A bot checked before it is created (so a form can show what is wrong first); the bots
    service checks it again, with the account's state, when it creates the bot."""

    name: str
    type: str
    description: str | None
    config: dict[str, Any]
    risk_settings: dict[str, Any]
    paper_trading: bool

    def spec(
        self, *, initial_balance: Decimal | None = None, exchange_connection_id: str | None = None
    ):
        """The bots service's ``BotSpec`` for this draft."""
        from core.services.bot_views import BotSpec

        extra: dict[str, Any] = {"exchange_connection_id": exchange_connection_id}
        if initial_balance is not None:
            extra["initial_balance"] = initial_balance
        return BotSpec(
            name=self.name,
            type=self.type,
            config=self.config,
            risk_settings=self.risk_settings,
            description=self.description,
            paper_trading=self.paper_trading,
            **extra,
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    template_id: str
    bot_id: str
    customization: dict[str, Any]
    deployed_at: datetime


# --- checking input ------------------------------------------------------------------------


def _text(value: object, field: str, limit: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(f"{field.capitalize()} can't be empty.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field.capitalize()} is at most {limit} characters.", field=field)
    return text


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    clean = (value or "").strip().lower()
    if clean not in allowed:
        raise InvalidInput(f"{field.capitalize()} is one of {', '.join(allowed)}.", field=field)
    return clean


def _tags(tags: object) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise InvalidInput("Tags are a list of words.", field="tags")
    tags = list(tags)
    if not all(isinstance(t, str) for t in tags):
        raise InvalidInput("Tags are a list of words.", field="tags")
    clean = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(clean) > TAGS_MAX or any(len(t) > 30 for t in clean):
        raise InvalidInput(f"At most {TAGS_MAX} tags of 30 characters each.", field="tags")
    return clean


def merge(base: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    """``changes`` over ``base``: nested objects merge key by key; anything else replaces."""
    if changes is None:
        return copy.deepcopy(base)
    if not isinstance(changes, dict):
        raise InvalidInput("Customisations are an object of settings.", field="config")
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validated(bot_type: str, config: Any, risk: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Config and risk settings as the registry's models store them (JSON, defaults included)."""
    model = validate_bot_config(bot_type, config)
    risk_model = validate_risk_settings(risk)
    return model.model_dump(mode="json"), risk_model.model_dump(mode="json", exclude_defaults=True)


def bot_draft(
    bot_type: str,
    config: dict[str, Any],
    risk: dict[str, Any],
    *,
    name: object,
    description: object = None,
    paper_trading: object = True,
) -> BotDraft:
    if not isinstance(paper_trading, bool):
        raise InvalidInput("paper_trading is true or false.", field="paper_trading")
    config, risk = validated(bot_type, config, risk)
    return BotDraft(
        name=_text(name, "name", NAME_MAX),
        type=bot_type,
        description=_text(description, "description", DESCRIPTION_MAX, required=False) or None,
        config=config,
        risk_settings=risk,
        paper_trading=paper_trading,
    )


# --- the system's templates ----------------------------------------------------------------


def _system(
    name: str,
    type: str,
    category: str,
    complexity: str,
    description: str,
    config: dict[str, Any],
    risk: dict[str, Any],
    tags: list[str],
    featured: bool = False,
) -> dict[str, Any]:
    return {
        "name": name, "type": type, "category": category, "complexity": complexity,
        "description": description, "config": config, "featured": featured, "tags": tags,
        "default_settings": {"risk_settings": risk, "paper_trading": True},
    }  # fmt: skip


SYSTEM_TEMPLATES: tuple[dict[str, Any], ...] = (
    _system(
        "Beginner DCA — Bitcoin", "dca", "trading", "beginner",
        "Buys 50 USDT of BTC every day and more on 5% and 10% dips; sells everything 5% over "
        "the average entry. The classic way to build a position without timing the market.",
        {"symbol": "BTC/USDT", "timeframe": "1h", "quote_amount": "50",
         "interval_minutes": 1440, "max_buys": 10, "cooldown_minutes": 720,
         "take_profit_percent": "5",
         "levels": [{"drop_percent": "5", "buy_percent": "50"},
                    {"drop_percent": "10", "buy_percent": "100"}]},
        {"max_position_size": "1000"},
        ["dca", "btc", "beginner", "long-term"], featured=True,
    ),
    _system(
        "RSI reversal signals", "signal", "trading", "beginner",
        "Buys BTC when RSI(14) climbs back above 30 and sells when it falls back below 70, "
        "with a 3% stop-loss and a 6% take-profit.",
        {"symbol": "BTC/USDT", "timeframe": "1h", "source": "technical",
         "indicator": {"name": "rsi_reversal", "period": 14, "oversold": 30, "overbought": 70}},
        {"stop_loss_percent": "3", "take_profit_percent": "6"},
        ["signal", "rsi", "btc", "mean-reversion"], featured=True,
    ),
    _system(
        "ETH range grid", "grid", "trading", "intermediate",
        "16 buy and sell levels between 2,800 and 3,600 USDT on ETH: earns one grid step on "
        "every swing while ETH stays in its range.",
        {"symbol": "ETH/USDT", "lower_price": "2800", "upper_price": "3600", "grid_count": 16,
         "spacing": "arithmetic", "quote_per_grid": "50"},
        {},
        ["grid", "eth", "range", "sideways"], featured=True,
    ),
    _system(
        "MACD trend follower", "signal", "trading", "intermediate",
        "Rides ETH trends on 4-hour candles: in when MACD crosses above its signal line, out "
        "when it crosses below; a trailing stop protects gains.",
        {"symbol": "ETH/USDT", "timeframe": "4h", "source": "technical",
         "indicator": {"name": "macd_cross", "fast": 12, "slow": 26, "signal": 9}},
        {"stop_loss_percent": "5",
         "trailing_stop": {"activation_percent": "4", "distance_percent": "2.5"}},
        ["signal", "macd", "eth", "trend-following"],
    ),
    _system(
        "AI trend predictor", "ai", "trading", "advanced",
        "A logistic model retrained every day on RSI, MACD, Bollinger %B, returns and volume "
        "predicts whether BTC closes higher 4 hours ahead; trades only on confident calls.",
        {"symbol": "BTC/USDT", "timeframe": "1h", "model": "logistic", "train_window": 500,
         "min_train": 200, "refit_every": 24, "horizon": 4, "buy_threshold": 0.58,
         "sell_threshold": 0.42},
        {"stop_loss_percent": "4", "take_profit_percent": "8"},
        ["ai", "machine-learning", "btc"],
    ),
    _system(
        "Pump screener — small caps", "pump_screener", "trading", "intermediate",
        "Watches PEPE, WIF and BONK for a 5% price rise on triple volume within an hour and "
        "alerts you; switch on 'enter' to buy with a tight 2% stop.",
        {"symbols": ["PEPE/USDT", "WIF/USDT", "BONK/USDT"], "timeframe": "5m", "window": 12,
         "price_change_percent": "5", "volume_change_percent": "200", "enter": False,
         "stop_loss_percent": "2"},
        {},
        ["pump", "screener", "small-caps", "alerts"],
    ),
    _system(
        "Cross-market arbitrage", "arbitrage", "arbitrage", "advanced",
        "Buys BTC on the cheaper of two markets and sells on the dearer one when the spread "
        "beats both fees by 0.1%. Starts on two simulated markets; point it at your exchanges.",
        {"symbol": "BTC/USDT", "market_a": "simulated", "market_b": "simulated",
         "simulated_offset_percent": "0.5", "threshold_percent": "0.1", "trade_amount": "100"},
        {},
        ["arbitrage", "btc", "spread"],
    ),
)  # fmt: skip


async def seed_system_templates(session: AsyncSession) -> int:
    """Insert or refresh the system templates (matched by name); usage counts are kept.
    Safe to run at every start. Returns how many were inserted."""
    existing = {
        t.name: t
        for t in await session.scalars(select(BotTemplate).where(BotTemplate.user_id.is_(None)))
    }
    added = 0
    for spec in SYSTEM_TEMPLATES:
        config, risk = validated(
            spec["type"], spec["config"], spec["default_settings"]["risk_settings"]
        )
        values = {
            **spec,
            "config": config,
            "default_settings": {**spec["default_settings"], "risk_settings": risk},
            "visibility": "public",
        }
        row = existing.get(spec["name"])
        if row is None:
            session.add(BotTemplate(user_id=None, usage_count=0, **values))
            added += 1
        else:
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
    await session.flush()
    return added


# --- reading -------------------------------------------------------------------------------


def _visible(actor: Actor):
    return or_(
        BotTemplate.user_id.is_(None),
        BotTemplate.visibility == "public",
        BotTemplate.user_id == actor.user_id,
    )


def _view(row: BotTemplate, actor: Actor) -> TemplateView:
    defaults = row.default_settings or {}
    return TemplateView(
        id=row.id,
        name=row.name,
        description=row.description,
        category=row.category,
        type=row.type or "",
        complexity=row.complexity,
        visibility=row.visibility,
        config=copy.deepcopy(row.config),
        risk_settings=copy.deepcopy(defaults.get("risk_settings") or {}),
        paper_trading=bool(defaults.get("paper_trading", True)),
        tags=tuple(row.tags or ()),
        usage_count=row.usage_count,
        featured=row.featured,
        is_system=row.user_id is None,
        is_mine=row.user_id == actor.user_id,
        created_at=row.created_at,
    )


async def list_templates(
    session: AsyncSession,
    actor: Actor,
    *,
    search: str | None = None,
    category: str | None = None,
    complexity: str | None = None,
    bot_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TemplateView]:
    """Templates the actor may see: featured first, then the most deployed, then by name."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} templates.", field="limit")
    stmt = select(BotTemplate).where(_visible(actor))
    if category:
        stmt = stmt.where(BotTemplate.category == _choice(category, CATEGORIES, "category"))
    if complexity:
        stmt = stmt.where(BotTemplate.complexity == _choice(complexity, COMPLEXITIES, "complexity"))
    if bot_type:
        stmt = stmt.where(BotTemplate.type == bot_type.strip().lower())
    if search and search.strip():
        word = search.strip().lower()
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                BotTemplate.name.ilike(like),
                BotTemplate.description.ilike(like),
                literal(word) == any_(BotTemplate.tags),
            )
        )
    stmt = stmt.order_by(
        BotTemplate.featured.desc(),
        BotTemplate.usage_count.desc(),
        BotTemplate.name,
        BotTemplate.id,
    )
    rows = await session.scalars(stmt.limit(limit).offset(offset))
    return [_view(r, actor) for r in rows]


async def _visible_row(session: AsyncSession, actor: Actor, template_id: str) -> BotTemplate:
    row = await session.scalar(
        select(BotTemplate).where(BotTemplate.id == template_id, _visible(actor))
    )
    if row is None:
        raise NotFound(f"No template {template_id!r}.")
    return row


async def get_template(session: AsyncSession, actor: Actor, template_id: str) -> TemplateView:
    return _view(await _visible_row(session, actor, template_id), actor)


# --- deploying -----------------------------------------------------------------------------


def template_draft(
    template: TemplateView,
    *,
    name: object,
    config: dict[str, Any] | None = None,
    risk_settings: dict[str, Any] | None = None,
    paper_trading: object = None,
    description: object = None,
) -> BotDraft:
    """The bot a deployment would create, checked (the deploy form validates with it)."""
    return bot_draft(
        template.type,
        merge(template.config, config),
        merge(template.risk_settings, risk_settings),
        name=name,
        description=description if description is not None else template.description,
        paper_trading=template.paper_trading if paper_trading is None else paper_trading,
    )


def customization_of(
    name: object,
    config: dict[str, Any] | None,
    risk_settings: dict[str, Any] | None,
    paper_trading: object,
) -> dict[str, Any]:
    """What the user changed, as stored in ``template_deployments.customization``."""
    given = {
        "name": name,
        "config": config or None,
        "risk_settings": risk_settings or None,
        "paper_trading": paper_trading,
    }
    return {k: v for k, v in given.items() if v is not None}


async def deploy_template(
    session: AsyncSession,
    actor: Actor,
    template_id: str,
    *,
    name: str,
    config: dict[str, Any] | None = None,
    risk_settings: dict[str, Any] | None = None,
    paper_trading: bool | None = None,
    initial_balance: Decimal | None = None,
    exchange_connection_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Deployment:
    """Create a bot from a template with the user's customisations (in the caller's
    transaction); a bad customisation is an InvalidInput and nothing is created."""
    from core.services.bots import create_bot

    template = await get_template(session, actor, template_id)
    draft = template_draft(
        template, name=name, config=config, risk_settings=risk_settings, paper_trading=paper_trading
    )
    bot = await create_bot(
        session,
        actor,
        draft.spec(initial_balance=initial_balance, exchange_connection_id=exchange_connection_id),
        clock=clock,
    )
    row = TemplateDeployment(
        template_id=template.id,
        user_id=actor.user_id,
        bot_id=bot.id,
        customization=customization_of(name, config, risk_settings, paper_trading),
        deployed_at=clock.now(),
    )
    session.add(row)
    await session.execute(
        update(BotTemplate)
        .where(BotTemplate.id == template.id)
        .values(usage_count=BotTemplate.usage_count + 1)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return Deployment(row.id, row.template_id, bot.id, row.customization, row.deployed_at)


async def list_deployments(session: AsyncSession, actor: Actor) -> list[Deployment]:
    rows = await session.scalars(
        select(TemplateDeployment)
        .where(TemplateDeployment.user_id == actor.user_id)
        .order_by(TemplateDeployment.deployed_at.desc(), TemplateDeployment.id.desc())
    )
    return [
        Deployment(r.id, r.template_id, r.bot_id or "", r.customization, r.deployed_at)
        for r in rows
    ]


# --- users' own templates ------------------------------------------------------------------


async def save_bot_as_template(
    session: AsyncSession,
    actor: Actor,
    bot_id: str,
    *,
    name: str,
    description: str,
    visibility: str = "private",
    complexity: str = "intermediate",
    category: str = "trading",
    tags: list[str] | None = None,
) -> TemplateView:
    """Save one of the actor's bots (its config and risk settings) as a template."""
    bot = await get_owned(session, Bot, bot_id, actor, what="bot")
    if bot.type == "manual":
        raise InvalidInput("The manual-trading account can't be saved as a template.", field="bot")
    config, risk = validated(bot.type, bot.config, bot.risk_settings)
    row = BotTemplate(
        user_id=actor.user_id,
        name=_text(name, "name", NAME_MAX),
        description=_text(description, "description", DESCRIPTION_MAX),
        category=_choice(category, CATEGORIES, "category"),
        type=bot.type,
        complexity=_choice(complexity, COMPLEXITIES, "complexity"),
        visibility=_choice(visibility, VISIBILITIES, "visibility"),
        config=config,
        default_settings={"risk_settings": risk, "paper_trading": bot.paper_trading},
        tags=_tags(tags),
        usage_count=0,
        featured=False,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return _view(row, actor)


async def set_template_visibility(
    session: AsyncSession, actor: Actor, template_id: str, visibility: str
) -> TemplateView:
    row = await get_owned(session, BotTemplate, template_id, actor, what="template")
    row.visibility = _choice(visibility, VISIBILITIES, "visibility")
    await session.flush()
    await session.refresh(row)
    return _view(row, actor)


async def delete_template(session: AsyncSession, actor: Actor, template_id: str) -> None:
    """Delete one of the actor's own templates (bots deployed from it stay)."""
    row = await get_owned(session, BotTemplate, template_id, actor, what="template")
    if row.user_id is None:
        raise Conflict("System templates can't be deleted.")
    await session.delete(row)
    await session.flush()
