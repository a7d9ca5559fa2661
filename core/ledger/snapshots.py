"""Valuations and snapshots: wallet value now, hourly wallet snapshots, user portfolio history.

Values come from the ledger's own rows: a wallet is worth its quote cash (``bot_balances``,
locked funds included) plus its open positions at their last marked price (``positions.
current_price``, kept fresh by ``Ledger.mark_to_market``).

- ``snapshot_wallets``: Nexgent's hourly ``bot_balance_snapshots``, one row per wallet per hour
  (``timestamp`` is the hour; running again within the hour updates that hour's row);
- ``snapshot_portfolio`` / ``snapshot_portfolios``: a ``portfolio_history`` row per user, on
  demand or periodically, with every asset (paper and live apart) and its value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import Bot, BotBalance, BotBalanceSnapshot, BotWallet
from core.db.models.trading import PortfolioHistory, Position
from core.ids import new_id
from core.ledger.accounting import CONTEXT, ZERO
from core.ledger.wallets import SIMULATION


@dataclass(frozen=True, slots=True)
class AssetValue:
    asset: str
    amount: Decimal
    price: Decimal | None  # None for the quote currency itself
    value: Decimal


@dataclass(frozen=True, slots=True)
class WalletValue:
    wallet_id: str
    user_id: str
    wallet_type: str
    quote: str
    initial_balance: Decimal
    cash: Decimal
    positions_value: Decimal
    realized_pnl: Decimal  # before fees
    unrealized_pnl: Decimal  # before fees
    fees_paid: Decimal
    balances: tuple[tuple[str, Decimal, Decimal], ...]  # (asset, amount, locked)
    holdings: tuple[AssetValue, ...]

    @property
    def total(self) -> Decimal:
        return self.cash + self.positions_value

    @property
    def is_paper(self) -> bool:
        return self.wallet_type == SIMULATION


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def wallet_values(
    session: AsyncSession,
    *,
    wallet_ids: Sequence[str] | None = None,
    user_id: str | None = None,
) -> list[WalletValue]:
    """The value of each wallet (all, some, or one user's), from the ledger's rows."""
    with localcontext(CONTEXT):
        return await _wallet_values(session, wallet_ids, user_id)


async def _wallet_values(
    session: AsyncSession, wallet_ids: Sequence[str] | None, user_id: str | None
) -> list[WalletValue]:
    stmt = (
        select(BotWallet, Bot.user_id).join(Bot, Bot.id == BotWallet.bot_id).order_by(BotWallet.id)
    )
    if wallet_ids is not None:
        stmt = stmt.where(BotWallet.id.in_(list(wallet_ids)))
    if user_id is not None:
        stmt = stmt.where(Bot.user_id == user_id)
    wallets = (await session.execute(stmt)).all()
    ids = [w.id for w, _ in wallets]
    if not ids:
        return []
    balances: dict[str, list[tuple[str, Decimal, Decimal]]] = defaultdict(list)
    for row in await session.scalars(
        select(BotBalance).where(BotBalance.wallet_id.in_(ids)).order_by(BotBalance.asset)
    ):
        balances[row.wallet_id].append((row.asset, row.amount, row.locked))
    held = func.coalesce(Position.remaining_quantity, Position.quantity)
    is_open = Position.status == "open"
    totals = {
        wallet_id: (realized, fees, unrealized)
        for wallet_id, realized, fees, unrealized in (
            await session.execute(
                select(
                    Position.wallet_id,
                    func.sum(Position.realized_pnl),
                    func.sum(Position.fees_paid),
                    func.sum(case((is_open, Position.unrealized_pnl), else_=0)),
                )
                .where(Position.wallet_id.in_(ids))
                .group_by(Position.wallet_id)
            )
        ).all()
    }
    holdings: dict[str, list[AssetValue]] = defaultdict(list)
    for wallet_id, symbol, amount, price in (
        await session.execute(
            select(Position.wallet_id, Position.symbol, held, Position.current_price)
            .where(Position.wallet_id.in_(ids), is_open)
            .order_by(Position.symbol, Position.id)
        )
    ).all():
        assert wallet_id is not None  # selected by wallet_id IN (...)
        holdings[wallet_id].append(AssetValue(symbol.split("/")[0], amount, price, amount * price))
    out = []
    for wallet, owner in wallets:
        cash = next(
            (a for asset, a, _ in balances[wallet.id] if asset == wallet.quote_currency), ZERO
        )
        realized, fees, unrealized = totals.get(wallet.id, (ZERO, ZERO, ZERO))
        assets = holdings[wallet.id]
        out.append(
            WalletValue(
                wallet_id=wallet.id,
                user_id=owner,
                wallet_type=wallet.wallet_type,
                quote=wallet.quote_currency,
                initial_balance=wallet.initial_balance,
                cash=cash,
                positions_value=sum((h.value for h in assets), ZERO),
                realized_pnl=realized,
                unrealized_pnl=unrealized,
                fees_paid=fees,
                balances=tuple(balances[wallet.id]),
                holdings=(AssetValue(wallet.quote_currency, cash, None, cash), *assets),
            )
        )
    return out


async def snapshot_wallets(
    session: AsyncSession, *, now: datetime, wallet_ids: Sequence[str] | None = None
) -> int:
    """Write (or refresh) this hour's ``bot_balance_snapshots`` row of each wallet."""
    values = await wallet_values(session, wallet_ids=wallet_ids)
    if not values:
        return 0
    hour = hour_of(now)
    rows = [
        {
            "id": new_id(),
            "wallet_id": v.wallet_id,
            "timestamp": hour,
            "total_value": v.total,
            "cash_balance": v.cash,
            "positions_value": v.positions_value,
            "realized_pnl": v.realized_pnl,
            "unrealized_pnl": v.unrealized_pnl,
            "balances": [
                {"asset": asset, "amount": str(amount), "locked": str(locked)}
                for asset, amount, locked in v.balances
            ],
        }
        for v in values
    ]
    stmt = insert(BotBalanceSnapshot).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[BotBalanceSnapshot.wallet_id, BotBalanceSnapshot.timestamp],
            set_={
                name: getattr(stmt.excluded, name)
                for name in (
                    "total_value",
                    "cash_balance",
                    "positions_value",
                    "realized_pnl",
                    "unrealized_pnl",
                    "balances",
                )
            },
        )
    )
    return len(rows)


def _assets(values: Sequence[WalletValue]) -> tuple[Decimal, list[dict[str, Any]]]:
    with localcontext(CONTEXT):
        return _merge_assets(values)


def _merge_assets(values: Sequence[WalletValue]) -> tuple[Decimal, list[dict[str, Any]]]:
    merged: dict[tuple[str, str], list[Decimal]] = {}
    prices: dict[tuple[str, str], Decimal | None] = {}
    for v in values:
        mode = "paper" if v.is_paper else "live"
        for h in v.holdings:
            key = (mode, h.asset)
            amount, value = merged.get(key, [ZERO, ZERO])
            merged[key] = [amount + h.amount, value + h.value]
            prices[key] = h.price
    assets = [
        {
            "asset": asset,
            "mode": mode,
            "amount": str(amount),
            "price": None if prices[(mode, asset)] is None else str(prices[(mode, asset)]),
            "value": str(value),
        }
        for (mode, asset), (amount, value) in sorted(merged.items())
    ]
    return sum((v.total for v in values), ZERO), assets


async def snapshot_portfolio(
    session: AsyncSession, user_id: str, *, now: datetime
) -> PortfolioHistory:
    """Store the user's portfolio value now (all their wallets, paper and live)."""
    total, assets = _assets(await wallet_values(session, user_id=user_id))
    row = PortfolioHistory(
        id=new_id(), user_id=user_id, total_value=total, assets=assets, timestamp=now
    )
    session.add(row)
    await session.flush()
    return row


async def snapshot_portfolios(session: AsyncSession, *, now: datetime) -> int:
    """The periodic pass: one ``portfolio_history`` row for every user who has a wallet."""
    by_user: dict[str, list[WalletValue]] = defaultdict(list)
    for value in await wallet_values(session):
        by_user[value.user_id].append(value)
    for user_id, values in by_user.items():
        total, assets = _assets(values)
        session.add(
            PortfolioHistory(
                id=new_id(), user_id=user_id, total_value=total, assets=assets, timestamp=now
            )
        )
    await session.flush()
    return len(by_user)
