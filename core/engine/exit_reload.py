"""The exit watcher's reload: only the positions whose band may have changed since the last one.

Every open position of a watched bot has a *band version*: a 64-bit hash, computed by
PostgreSQL, of everything its quiet band is built from — the position's exit-state columns,
its bot's type, settings and ``updated_at``, its wallet's market and its exchange connection.
The watcher sends back the versions it holds (two array parameters); the one statement returns
the rows whose version differs (opened or changed since, in full) and the ids it holds that are
no longer open positions of a running, paused or errored bot (closed, bot stopped or deleted:
``id`` NULL). A reload where nothing changed decodes no row at all, however many positions are
watched; columns no band reads (the mark-to-market price and P&L every engine writes every few
seconds) are left out of the version, so revaluing a position doesn't make it "changed".

The rows come through a server-side cursor in small chunks, so the event loop is never held
for more than a chunk while a tick may be waiting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    cast,
    func,
    literal_column,
    select,
    text,
    tuple_,
)

from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import ExchangeConnection, Position

WATCHED_TYPES = ("signal", "ai", "dca", "pump_screener")
"""Grid and arbitrage bots leave positions through their own orders, not the exit rules."""
PROTECTED = ("active", "paused", "error")

_p = Position
_BAND: dict[str, Any] = {
    "bot_id": _p.bot_id,
    "symbol": _p.symbol,
    "is_paper_trade": _p.is_paper_trade,
    "quantity": _p.quantity,
    "remaining_quantity": _p.remaining_quantity,
    "entry_price": _p.entry_price,
    "stop_loss": _p.stop_loss,
    "created_at": _p.created_at,
    "peak_price": _p.peak_price,
    "lowest_price": _p.lowest_price,
    "take_profit_levels_hit": _p.take_profit_levels_hit,
    "moon_bag_quantity": _p.moon_bag_quantity,
    "moon_bag_activated": _p.moon_bag_activated,
    "last_stop_loss_update": _p.last_stop_loss_update,
    "last_take_profit_time": _p.last_take_profit_time,
    "dca_count": _p.dca_count,
    "last_dca_time": _p.last_dca_time,
    "bot_type": Bot.type,
    "config": Bot.config,
    "risk_settings": Bot.risk_settings,
    "bot_updated_at": Bot.updated_at,
    "wallet_type": BotWallet.wallet_type,
    "paper_market": BotWallet.paper_market,
    "exchange": ExchangeConnection.exchange,
    "is_testnet": ExchangeConnection.is_testnet,
}
"""What a band is built from (``exits.watch`` and the feed of ``ExitWatcher._place``)."""

_CURRENT = (
    select(
        _p.id,
        *(column.label(name) for name, column in _BAND.items()),
        func.hashtextextended(cast(tuple_(*_BAND.values()), Text), literal_column("0")).label(
            "version"
        ),
    )
    .join(Bot, Bot.id == _p.bot_id)
    .join(BotWallet, BotWallet.id == _p.wallet_id)
    .outerjoin(ExchangeConnection, ExchangeConnection.id == BotWallet.exchange_connection_id)
    .where(_p.status == "open", Bot.status.in_(PROTECTED), Bot.type.in_(WATCHED_TYPES))
    .subquery("current")
)
_KNOWN = (
    text(
        "SELECT * FROM unnest(CAST(:ids AS varchar[]), CAST(:versions AS bigint[])) "
        "AS known(id, version)"
    )
    .columns(id=String, version=BigInteger)
    .subquery("known")
)
CHANGES = (
    select(_KNOWN.c.id.label("known_id"), *_CURRENT.c)
    .select_from(_KNOWN.join(_CURRENT, _CURRENT.c.id == _KNOWN.c.id, full=True))
    .where(_CURRENT.c.version.is_distinct_from(_KNOWN.c.version))
)
"""Built once; parameters ``ids`` and ``versions`` (the watcher's, empty for a full reload)."""
