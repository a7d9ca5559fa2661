"""The bot page's figures a trader can check: no Sharpe from a handful of returns (and why), a
profit factor of ∞ when nothing lost, the equity title naming the span its points cover, and
"last run" still known after a resume cleared the engine's slot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update
from textual.widgets import Static

from core.db.engine import Database
from core.db.models.bots import Bot, BotBalanceSnapshot, BotWallet, Execution, PerformanceSnapshot
from core.services.bots import BotSpec, create_bot
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import NOW, signed_in, trader
from tui.screens.bot_detail import BotDetailScreen
from tui.widgets.chart import LineChart

D = Decimal


async def _one_winning_day(db: Database, bot_id: str) -> None:
    """One winning trade, three hourly equity points a day apart at most, one execution five
    minutes ago — and the bot just resumed (no slot)."""
    async with db.sessions.begin() as s:
        wallet_id = await s.scalar(select(BotWallet.id).where(BotWallet.bot_id == bot_id))
        for hours, value in ((24, "10000"), (12, "10050"), (1, "10100")):
            s.add(BotBalanceSnapshot(wallet_id=wallet_id, timestamp=NOW - timedelta(hours=hours),
                                     total_value=D(value), cash_balance=D(value), balances=[]))  # fmt: skip
        s.add(Execution(bot_id=bot_id, execution_id="exec-1", signal="HOLD", confidence=D(50),
                        reason="waiting", price=D(100), indicators={}, status="completed",
                        timestamp=NOW - timedelta(minutes=5)))  # fmt: skip
        s.add(PerformanceSnapshot(
            bot_id=bot_id, timestamp=NOW - timedelta(minutes=1), risk_score=D(3), rating="good",
            total_trades=1, win_rate=D(100), total_return=D(100), total_return_percent=D(1),
            max_drawdown_percent=D(0), sharpe_ratio=D(0), profit_factor=D(0),
            metrics={"sharpe": None, "profit_factor": None, "gross_profit": "100",
                     "gross_loss": "0", "equity_points": 4},
        ))  # fmt: skip
        await s.execute(
            update(Bot).where(Bot.id == bot_id).values(status="active", last_execution_at=None)
        )


async def test_bot_page_shows_only_figures_that_mean_something(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:
        bot = await create_bot(s, seeded.actor, BotSpec(name="Ladder", type="dca"))
    await _one_winning_day(db, bot.id)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        app.open_bot(bot.id)
        await wait_for(pilot, lambda: isinstance(app.screen, BotDetailScreen), what="bot page")
        performance = app.screen.query_one("#performance", Static)
        await wait_for(pilot, lambda: "Sharpe" in str(performance.render()), what="figures")
        shown = str(performance.render())
        assert "Sharpe — (3 of 30 hourly returns)" in shown
        assert "Profit factor ∞ (no losing trade)" in shown
        assert "0.00" not in shown.split("Profit factor")[1].split("·")[0]
        headline = str(app.screen.query_one("#headline", Static).render())
        assert "last run 5m ago" in headline and "never" not in headline
        chart = app.screen.query_one("#equity", LineChart)
        await wait_for(pilot, lambda: chart.border_title != "Equity", what="the equity span")
        assert chart.border_title == "Equity · 23 h"


async def test_settings_tab_reads_like_settings(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """No `provider id None`, no raw JSON, no `allowed symbols []`; DCA levels one per line."""
    seeded = await trader(db, history=False)
    async with db.sessions.begin() as s:
        signal = await create_bot(s, seeded.actor, BotSpec(name="Signals", type="signal"))
        ladder = await create_bot(
            s,
            seeded.actor,
            BotSpec(
                name="Ladder",
                type="dca",
                config={"levels": [{"drop_percent": "2", "buy_percent": "50"},
                                   {"drop_percent": "5", "buy_percent": "100"}]},
            ),
        )  # fmt: skip
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        for bot_id in (signal.id, ladder.id):
            app.open_bot(bot_id)
            await wait_for(
                pilot,
                lambda b=bot_id: (
                    isinstance(app.screen, BotDetailScreen)  # type: ignore[misc]
                    and app.screen.bot_id == b
                    and app.screen.detail is not None
                ),
                what="the bot page",
            )
            await settle(pilot)
            shown = str(app.screen.query_one("#config", Static).render())
            assert "None" not in shown and "{" not in shown and "[]" not in shown, shown
            if bot_id == signal.id:
                assert "allowed symbols  any pair" in shown
                assert "indicator  fast 10 · name sma_cross · slow 20" in shown
            else:
                assert "1. buy percent 50 · drop percent 2" in shown
                assert "2. buy percent 100 · drop percent 5" in shown
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, BotDetailScreen), what="back")
