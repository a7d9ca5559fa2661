"""The schema in PostgreSQL matches the seed: a representative sample per domain.

Checked against the live catalog after ``upgrade heads`` (not against the models), and the
cascade rules by really deleting parent rows.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from core.db.engine import Database
from core.db.models.admin import SecurityLog, SystemSettings
from core.db.models.bots import Bot, BotWallet, Execution
from core.db.models.notifications import Notification, NotificationChannel, NotificationType
from core.db.models.signals import Signal, SignalExecution, SignalProvider
from core.db.models.trading import Exchange, Order, Position, Trade, TradingPair
from core.db.models.users import Session, User

SEED_TABLES = {
    # users & auth
    "users", "sessions", "two_factor_auth", "login_history", "known_devices", "privacy_settings",
    "data_exports",
    # exchanges & trading
    "exchanges", "exchange_connections", "trading_pairs", "trades", "orders", "positions",
    "portfolio_history",
    # bots
    "bots", "executions", "performance_snapshots", "backtests", "historical_datasets",
    "bot_executions", "pump_detections", "analytics",
    # signals
    "signal_providers", "signals",
    # defi
    "wallets", "staking_positions", "farm_positions", "liquidity_positions", "defi_protocols",
    "liquidity_pools",
    # marketplace, billing, referrals, templates
    "strategies", "strategy_reviews", "strategy_purchases", "subscriptions",
    "subscription_history", "payments", "referrals", "bot_templates", "template_deployments",
    # notifications, admin, support
    "notifications", "notification_preferences", "audit_logs", "admin_notes", "security_logs",
    "blocked_ips", "system_settings", "help_articles", "help_categories", "faqs",
    "support_tickets", "ticket_messages",
}  # fmt: skip
NEXGENT_TABLES = {
    "bot_wallets", "bot_balances", "bot_balance_snapshots", "signal_executions", "api_keys",
}  # fmt: skip


async def _rows(db: Database, sql: str, **params: object) -> list[tuple]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def _columns(db: Database, table: str) -> dict[str, tuple[str, bool, str | None]]:
    rows = await _rows(
        db,
        "SELECT column_name, data_type, is_nullable = 'YES', column_default, "
        "numeric_precision, numeric_scale, udt_name "
        "FROM information_schema.columns WHERE table_name = :t",
        t=table,
    )
    out = {}
    for name, dtype, nullable, default, prec, scale, udt in rows:
        if dtype == "numeric":
            dtype = f"numeric({prec},{scale})"
        elif dtype in ("ARRAY", "USER-DEFINED"):
            dtype = udt
        out[name] = (dtype, nullable, default)
    return out


async def _indexes(db: Database, table: str) -> list[str]:
    return [
        r[0]
        for r in await _rows(db, "SELECT indexdef FROM pg_indexes WHERE tablename = :t", t=table)
    ]


async def test_every_seed_and_nexgent_table_exists(session_db: Database) -> None:
    tables = {
        r[0]
        for r in await _rows(
            session_db, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    assert tables >= SEED_TABLES | NEXGENT_TABLES


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("users", {
            "email": ("character varying", False, None),
            "two_factor_backup_codes": ("_varchar", False, "'{}'::character varying[]"),
            "failed_login_attempts": ("integer", False, "0"),
            "locked_until": ("timestamp with time zone", True, None),
            "status": ("character varying", False, "'active'::character varying"),
            "role": ("character varying", False, "'user'::character varying"),
            "referral_code": ("character varying", True, None),
        }),
        ("trades", {
            "bot_id": ("character varying", True, None),
            "price": ("numeric(65,30)", False, None),
            "fee": ("numeric(65,30)", False, "'0'::numeric"),
            "fee_currency": ("character varying", False, "'USDT'::character varying"),
            "profit_loss": ("numeric(65,30)", True, None),
            "is_paper_trade": ("boolean", False, "true"),
            "executed_at": ("timestamp with time zone", False, "now()"),
        }),
        ("positions", {
            "unrealized_pnl": ("numeric(65,30)", False, "'0'::numeric"),
            "unrealized_pnl_percent": ("numeric(65,30)", False, "'0'::numeric"),
            "close_reason": ("character varying", True, None),
            "peak_price": ("numeric(65,30)", True, None),
            "dca_count": ("integer", False, "0"),
            "remaining_quantity": ("numeric(65,30)", True, None),
        }),
        ("bots", {
            "type": ("character varying", False, "'ai'::character varying"),
            "status": ("character varying", False, "'inactive'::character varying"),
            "config": ("jsonb", False, None),
            "paper_trading": ("boolean", False, "true"),
        }),
        ("exchange_connections", {
            "permissions": ("_varchar", False, "'{read}'::character varying[]"),
            "encrypted_passphrase": ("character varying", True, None),
        }),
        ("notifications", {
            "type": ("notification_type", False, None),
            "channel": ("notification_channel", False, None),
            "priority": ("notification_priority", False, "'NORMAL'::notification_priority"),
            "message": ("text", False, None),
        }),
        ("liquidity_positions", {
            "initial_value_usd": ("numeric(65,30)", False, None),
            "impermanent_loss": ("numeric(65,30)", False, "'0'::numeric"),
        }),
        ("strategies", {"rating": ("numeric(65,30)", False, "'0'::numeric"), "downloads": ("integer", False, "0")}),
        ("subscriptions", {"is_complimentary": ("boolean", False, "false"), "stripe_customer_id": ("character varying", True, None)}),
        ("notification_preferences", {
            "digest_frequency": ("character varying", False, "'realtime'::character varying"),
            "quiet_hours_start": ("integer", True, None),
        }),
        ("system_settings", {"id": ("character varying", False, "'singleton'::character varying")}),
        ("help_categories", {"order": ("integer", False, "0")}),
        ("bot_balances", {"amount": ("numeric(65,30)", False, "'0'::numeric"), "locked": ("numeric(65,30)", False, "'0'::numeric")}),
        ("signal_executions", {"status": ("character varying", False, None)}),
        ("api_keys", {"key_hash": ("character varying", False, None), "scopes": ("_varchar", False, "'{}'::character varying[]")}),
    ],
)  # fmt: skip
async def test_columns_types_nullability_defaults(
    session_db: Database, table: str, expected: dict[str, tuple[str, bool, str | None]]
) -> None:
    columns = await _columns(session_db, table)
    for name, want in expected.items():
        assert columns[name] == want, (table, name)


async def test_every_money_column_is_numeric_65_30(session_db: Database) -> None:
    rows = await _rows(
        session_db,
        "SELECT table_name, column_name, numeric_precision, numeric_scale "
        "FROM information_schema.columns WHERE data_type = 'numeric' AND table_schema = current_schema()",
    )
    assert len(rows) > 80
    assert {(p, s) for _, _, p, s in rows} == {(65, 30)}


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ("trades", "(bot_id, executed_at DESC)"),
        ("trades", "(user_id, executed_at DESC)"),
        ("trades", "(user_id, symbol, executed_at DESC)"),
        ("trades", "(user_id, status, executed_at DESC)"),
        ("trades", "(profit_loss)"),
        ("bots", "(status, last_execution_at)"),
        ("bots", "(user_id, type, status)"),
        ("positions", "(bot_id, status)"),
        ("performance_snapshots", '(bot_id, "timestamp" DESC)'),
        ("analytics", "(user_id, type, period)"),
        ("signals", "(processed, created_at)"),
        ("staking_positions", "(chain, status)"),
        ("farm_positions", "(wallet_id, status)"),
        ("liquidity_positions", "(chain, status)"),
        ("notifications", "(priority)"),
        ("security_logs", "(ip_address)"),
        ("bot_balance_snapshots", '(wallet_id, "timestamp" DESC)'),
    ],
)
async def test_indexes(session_db: Database, table: str, fragment: str) -> None:
    assert any(d.endswith(f"USING btree {fragment}") for d in await _indexes(session_db, table)), (
        table,
        fragment,
    )


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("users", "(email)"),
        ("users", "(referral_code)"),
        ("sessions", "(refresh_token)"),
        ("two_factor_auth", "(user_id)"),
        ("known_devices", "(user_id, device_fingerprint)"),
        ("exchange_connections", "(user_id, exchange)"),
        ("trading_pairs", "(exchange_id, symbol)"),
        ("wallets", "(user_id, address, chain)"),
        ("historical_datasets", "(symbol, timeframe, start_date, end_date)"),
        ("liquidity_pools", "(protocol, chain, pair)"),
        ("strategy_reviews", "(strategy_id, user_id)"),
        ("strategy_purchases", "(user_id, strategy_id)"),
        ("referrals", "(referred_id)"),
        ("referrals", "(code)"),
        ("executions", "(execution_id)"),
        ("subscriptions", "(stripe_subscription_id)"),
        ("payments", "(stripe_payment_id)"),
        ("blocked_ips", "(ip_address)"),
        ("bot_wallets", "(bot_id, wallet_type)"),
        ("signal_executions", "(signal_id, bot_id)"),
    ],
)
async def test_unique_constraints(session_db: Database, table: str, columns: str) -> None:
    assert any(
        d.startswith("CREATE UNIQUE INDEX") and d.endswith(f"USING btree {columns}")
        for d in await _indexes(session_db, table)
    ), (table, columns)


async def test_foreign_key_delete_rules(session_db: Database) -> None:
    rows = await _rows(
        session_db,
        "SELECT tc.table_name, kcu.column_name, rc.delete_rule "
        "FROM information_schema.referential_constraints rc "
        "JOIN information_schema.table_constraints tc ON tc.constraint_name = rc.constraint_name "
        "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name",
    )
    rules = {(t, c): r for t, c, r in rows}
    assert rules[("security_logs", "user_id")] == "SET NULL"
    assert rules[("trades", "bot_id")] == "SET NULL"
    assert rules[("orders", "bot_id")] == "SET NULL"
    assert rules[("sessions", "user_id")] == "CASCADE"
    assert rules[("positions", "bot_id")] == "CASCADE"
    assert rules[("ticket_messages", "ticket_id")] == "CASCADE"
    assert ("bot_executions", "bot_id") not in rules  # the seed: no FK relation
    assert ("strategy_purchases", "user_id") not in rules


async def test_only_the_singleton_settings_row(db: Database) -> None:
    async with db.session() as s:
        assert (await s.scalars(select(SystemSettings.id))).all() == ["singleton"]
        s.add(SystemSettings(id="another"))
        with pytest.raises(Exception, match="singleton"):
            await s.commit()


async def _graph(db: Database) -> dict[str, str]:
    """A user with a session, a bot with a wallet, an execution, an order, a position and a trade."""
    async with db.session() as s:
        user = User(email="cascade@example.com", password="x")
        exchange = Exchange(name="paper", api_url="sim://", supported_pairs=[], fees={})
        s.add_all([user, exchange])
        await s.flush()
        pair = TradingPair(
            exchange_id=exchange.id, symbol="BTCUSDT", base="BTC", quote="USDT",
            min_order_size=Decimal("0.0001"), price_precision=2, quantity_precision=6,
        )  # fmt: skip
        bot = Bot(user_id=user.id, name="b", type="dca", config={}, risk_settings={})
        s.add_all([pair, bot, Session(user_id=user.id, refresh_token="h", expires_at=func.now())])
        await s.flush()
        wallet = BotWallet(bot_id=bot.id, wallet_type="simulation")
        execution = Execution(
            bot_id=bot.id, execution_id="e1", signal="BUY", confidence=Decimal(80),
            reason="test", price=Decimal(100), indicators={}, status="success",
        )  # fmt: skip
        order = Order(
            user_id=user.id, bot_id=bot.id, exchange_id=exchange.id, pair_id=pair.id,
            type="market", side="buy", quantity=Decimal(1), status="filled",
        )  # fmt: skip
        position = Position(
            bot_id=bot.id, symbol="BTC/USDT", side="BUY", quantity=Decimal(1),
            entry_price=Decimal(100), current_price=Decimal(100), stop_loss=Decimal(90),
            take_profit=Decimal(120),
        )  # fmt: skip
        s.add_all([wallet, execution, order, position])
        await s.flush()
        trade = Trade(
            user_id=user.id, bot_id=bot.id, order_id=order.id, position_id=position.id,
            symbol="BTC/USDT", side="BUY", price=Decimal(100), quantity=Decimal(1),
            executed_price=Decimal(100),
        )  # fmt: skip
        log = SecurityLog(
            type="auth_failure", user_id=user.id, ip_address="127.0.0.1", user_agent="t"
        )
        provider = SignalProvider(name="p", type="webhook", config={})
        s.add_all([trade, log, provider])
        await s.flush()
        signal = Signal(provider_id=provider.id, symbol="BTC/USDT", action="BUY")
        s.add(signal)
        await s.flush()
        s.add(SignalExecution(signal_id=signal.id, bot_id=bot.id, status="success"))
        s.add(
            Notification(
                user_id=user.id, type=NotificationType.BOT_CREATED,
                channel=NotificationChannel.IN_APP, title="t", message="m",
            )
        )  # fmt: skip
        await s.commit()
        return {"user": user.id, "bot": bot.id, "trade": trade.id, "log": log.id, "order": order.id}


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)))


async def test_deleting_a_bot_cascades_but_keeps_trades_and_orders(db: Database) -> None:
    ids = await _graph(db)
    async with db.session() as s:
        await s.execute(text("DELETE FROM bots WHERE id = :id"), {"id": ids["bot"]})
        await s.commit()
    for model in (BotWallet, Execution, Position, SignalExecution):
        assert await _count(db, model) == 0, model
    async with db.session() as s:
        trade = await s.get(Trade, ids["trade"])
        order = await s.get(Order, ids["order"])
    assert trade is not None and trade.bot_id is None and trade.position_id is None
    assert order is not None and order.bot_id is None


async def test_deleting_a_user_cascades_and_keeps_security_logs(db: Database) -> None:
    ids = await _graph(db)
    async with db.session() as s:
        await s.execute(text("DELETE FROM users WHERE id = :id"), {"id": ids["user"]})
        await s.commit()
    for model in (Session, Bot, Trade, Order, Position, Notification, BotWallet):
        assert await _count(db, model) == 0, model
    async with db.session() as s:
        log = await s.get(SecurityLog, ids["log"])
    assert log is not None and log.user_id is None
