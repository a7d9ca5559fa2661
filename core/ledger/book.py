"""The ledger: fills become trades, positions and wallet balances, exactly and atomically.

``Ledger.apply_fill`` is the only writer of positions, trades and balances for a fill. It locks
the wallet's balance rows and the open position (``FOR UPDATE``, always in that order), checks
everything, and only then writes, so a fill is either booked completely or not at all and no
balance ever goes below what resting orders have locked (or below zero).
``Ledger.mark_to_market`` revalues open positions at new prices in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from sqlalchemy import Numeric, String, column, func, select, update, values
from sqlalchemy.ext.asyncio import AsyncSession

from core.brokers.types import Fill, Side
from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.bots import BotBalance
from core.db.models.trading import Position, Trade
from core.errors import InvalidInput
from core.ids import new_id
from core.ledger.accounting import CONTEXT, ZERO, Holding, cash_change, percent, storable
from core.ledger.wallets import WalletInfo, lock_balances
from core.market.catalog import Pair
from core.market.errors import InsufficientFunds
from core.market.types import MarketInfo


def unsellable(info: MarketInfo, quantity: Decimal) -> bool:
    """Below what one order may sell: under the minimum, or nothing once cut to the step."""
    sellable = info.round_quantity(quantity)
    return sellable <= 0 or sellable < info.min_quantity


class CloseReason(StrEnum):
    """``positions.close_reason`` (the seed's four, plus MANUAL for a close by hand)."""

    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    SIGNAL = "SIGNAL"
    BOT_STOPPED = "BOT_STOPPED"
    MANUAL = "MANUAL"


OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class AppliedFill:
    trade_id: str
    position_id: str
    realized_pnl: Decimal | None  # this sale's realized P&L before fees; None for a buy
    balance: Decimal  # the wallet's quote balance after the trade
    position_closed: bool


def holding_of(position: Position) -> Holding:
    held = position.remaining_quantity
    return Holding(
        quantity=position.quantity if held is None else held,
        cost_basis=position.cost_basis,
        bought=position.quantity,
        invested=position.total_invested,
        realized=position.realized_pnl,
        fees=position.fees_paid,
    )


def _money(value: Decimal) -> str:
    return f"{value.normalize():,f}"


@dataclass
class Ledger:
    clock: Clock = SYSTEM_CLOCK
    new_id: Callable[[], str] = new_id
    """Ids of the positions and trades it books (the engine gives a faster generator of the
    same CUID2 ids: it books them by the thousand)."""

    async def open_position(
        self, session: AsyncSession, wallet_id: str, symbol: str, *, for_update: bool = False
    ) -> Position | None:
        stmt = (
            select(Position)
            .where(
                Position.wallet_id == wallet_id, Position.symbol == symbol, Position.status == OPEN
            )
            .order_by(Position.created_at, Position.id)
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await session.scalar(stmt)

    async def apply_fill(
        self,
        session: AsyncSession,
        fill: Fill,
        *,
        wallet: WalletInfo,
        pair: Pair,
        order_id: str | None = None,
        close_reason: CloseReason | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        release: Decimal = ZERO,
    ) -> AppliedFill:
        """Book one fill. ``release``: what this fill's resting order had locked, now unlocked.

        A buy opens the wallet's position in the symbol, or adds to it (a DCA); a sell reduces
        it with the average cost basis and closes it when nothing is left.
        """
        with localcontext(CONTEXT):  # amounts have up to 65 digits: never let the context round
            return await self._apply_fill(
                session, fill, wallet, pair, order_id, close_reason, stop_loss, take_profit, release
            )

    async def _apply_fill(
        self,
        session: AsyncSession,
        fill: Fill,
        wallet: WalletInfo,
        pair: Pair,
        order_id: str | None,
        close_reason: CloseReason | None,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        release: Decimal,
    ) -> AppliedFill:
        info = pair.info
        other_fee = fill.fee_currency not in (info.quote, info.base) and fill.fee
        assets = {info.quote, info.base} | ({fill.fee_currency} if other_fee else set())
        rows = await lock_balances(session, wallet.id, assets)
        position = await self.open_position(session, wallet.id, info.symbol, for_update=True)
        opened = position is None
        position, trade, applied = self.book_fill(
            fill,
            wallet,
            pair,
            rows,
            position,
            order_id=order_id,
            close_reason=close_reason,
            stop_loss=stop_loss,
            take_profit=take_profit,
            release=release,
        )
        if opened:
            session.add(position)
        await session.flush()
        session.add(trade)  # written by the next flush (or any query: autoflush)
        return applied

    def book_fill(
        self,
        fill: Fill,
        wallet: WalletInfo,
        pair: Pair,
        rows: Mapping[str, BotBalance],
        position: Position | None,
        *,
        order_id: str | None = None,
        close_reason: CloseReason | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        release: Decimal = ZERO,
    ) -> tuple[Position, Trade, AppliedFill]:
        """The arithmetic of one fill on rows already locked: checks everything, then changes
        the balance rows and the position (a new one when ``position`` is None) in memory and
        returns them with the trade to insert. No SQL: ``apply_fill`` and the engine's batched
        exits (``core.engine.exit_batch``) both book through here, so both book alike."""
        with localcontext(CONTEXT):
            return self._book_fill(
                fill,
                wallet,
                pair,
                rows,
                position,
                order_id,
                close_reason,
                stop_loss,
                take_profit,
                release,
            )

    def _book_fill(
        self,
        fill: Fill,
        wallet: WalletInfo,
        pair: Pair,
        rows: Mapping[str, BotBalance],
        position: Position | None,
        order_id: str | None,
        close_reason: CloseReason | None,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        release: Decimal,
    ) -> tuple[Position, Trade, AppliedFill]:
        info = pair.info
        if fill.symbol != info.symbol:
            raise InvalidInput(f"A {fill.symbol} fill can't be booked on {info.symbol}.")
        if info.quote != wallet.quote:
            raise InvalidInput(
                f"This wallet holds {wallet.quote}; {info.symbol} is quoted in {info.quote}.",
                field="symbol",
            )
        for value, what in ((fill.quantity, "quantity"), (fill.price, "price"), (fill.fee, "fee")):
            storable(value, what)
        if fill.quantity <= 0 or fill.price <= 0 or fill.fee < 0:
            raise InvalidInput("A fill needs a positive quantity and price and no negative fee.")
        buying = fill.side is Side.BUY
        fee_quote = fill.fee if fill.fee_currency == info.quote else ZERO
        fee_base = fill.fee if fill.fee_currency == info.base else ZERO
        other_fee = fill.fee if fill.fee_currency not in (info.quote, info.base) else ZERO
        before = holding_of(position) if position is not None else Holding()

        if buying:
            after = before.buy(fill.quantity, fill.price, fee_quote=fee_quote, fee_base=fee_base)
            realized: Decimal | None = None
        else:
            leaving = fill.quantity + fee_base
            if position is None or before.quantity < leaving:
                held = before.quantity if position is not None else ZERO
                raise InsufficientFunds(
                    f"The {info.symbol} position holds {_money(held)} {info.base}; "
                    f"{_money(leaving)} can't be sold.",
                    field="quantity",
                )
            after, realized = before.sell(
                fill.quantity, fill.price, fee_quote=fee_quote, fee_base=fee_base
            )
            if after.quantity and unsellable(info, after.quantity):
                # What a sale leaves below the pair's minimum order (typically what a fee taken
                # in the base asset left over) can never be sold: the position closes, and the
                # dust stays in the wallet's balance with its cost booked as this sale's loss.
                # Otherwise the position would stay open forever and every exit would retry.
                after, lost = after.write_off()
                with localcontext(CONTEXT):
                    realized += lost

        # Balances after the fill; checked before anything is written.
        cash = rows[info.quote]
        base = rows[info.base]
        new_cash = cash.amount + cash_change(buying, fill.quantity, fill.price, fee_quote)
        new_cash_locked = cash.locked - (release if buying else ZERO)
        base_delta = (fill.quantity - fee_base) if buying else -(fill.quantity + fee_base)
        new_base = base.amount + base_delta
        new_base_locked = base.locked - (ZERO if buying else release)
        strict = wallet.is_paper  # a live wallet mirrors an exchange that already executed
        if strict and (new_cash < new_cash_locked or new_cash_locked < 0):
            raise InsufficientFunds(
                f"Insufficient {info.quote}: the trade needs "
                f"{_money(-cash_change(buying, fill.quantity, fill.price, fee_quote))} "
                f"and {_money(cash.amount - cash.locked + (release if buying else ZERO))} is free.",
                field="quantity",
            )
        if strict and (new_base < new_base_locked or new_base_locked < 0):
            raise InsufficientFunds(
                f"Insufficient {info.base} in the wallet for this sale.", field="quantity"
            )
        other_row = rows.get(fill.fee_currency) if other_fee else None
        if other_row is not None and strict and other_row.amount - other_row.locked < other_fee:
            raise InsufficientFunds(f"Insufficient {fill.fee_currency} to pay the fee.")

        cash.amount = storable(max(new_cash, ZERO) if not strict else new_cash, "balance")
        cash.locked = max(new_cash_locked, ZERO)
        base.amount = storable(max(new_base, ZERO) if not strict else new_base, "balance")
        base.locked = max(min(new_base_locked, base.amount), ZERO)
        if other_row is not None:
            other_row.amount = max(other_row.amount - other_fee, ZERO)

        now = fill.executed_at
        if position is None:
            position = Position(
                id=self.new_id(),
                bot_id=wallet.bot_id,
                wallet_id=wallet.id,
                symbol=info.symbol,
                side="BUY",
                is_paper_trade=wallet.is_paper,
                stop_loss=stop_loss or ZERO,
                take_profit=take_profit or ZERO,
                peak_price=fill.price,
                lowest_price=fill.price,
                dca_count=0,
                take_profit_levels_hit=0,
                moon_bag_activated=False,
                created_at=now,
                updated_at=now,
            )
        else:
            if buying:
                position.dca_count += 1
                position.last_dca_time = now
            if stop_loss is not None:
                position.stop_loss = stop_loss
            if take_profit is not None:
                position.take_profit = take_profit
            position.peak_price = max(position.peak_price or fill.price, fill.price)
            position.lowest_price = min(position.lowest_price or fill.price, fill.price)
            position.updated_at = now
        self._write_holding(position, after, fill.price)
        if after.is_closed:
            position.status = CLOSED
            position.exit_price = fill.price
            position.closed_at = now
            position.close_reason = (
                close_reason or (CloseReason.MANUAL if wallet.is_manual else CloseReason.SIGNAL)
            ).value
            position.profit_loss = storable(after.net_pnl, "profit_loss")
            position.profit_loss_percent = percent(after.net_pnl, after.invested)
            position.unrealized_pnl = ZERO
            position.unrealized_pnl_percent = ZERO

        trade = Trade(
            id=self.new_id(),
            user_id=wallet.user_id,
            bot_id=wallet.trade_bot_id,
            exchange_id=pair.exchange_id,
            pair_id=pair.pair_id,
            position_id=position.id,
            order_id=order_id,
            symbol=info.symbol,
            side=fill.side.value.upper(),
            type="LIMIT" if fill.order_type.value == "limit" else "MARKET",
            price=fill.reference_price or fill.price,
            quantity=fill.quantity,
            executed_price=fill.price,
            fee=fill.fee,
            fee_currency=fill.fee_currency,
            total=storable(fill.quantity * fill.price, "total"),
            profit_loss=storable(realized, "profit_loss") if realized is not None else None,
            balance=cash.amount,
            status="FILLED",
            is_paper_trade=fill.is_paper,
            executed_at=now,
        )
        return (
            position,
            trade,
            AppliedFill(
                trade_id=trade.id,
                position_id=position.id,
                realized_pnl=realized,
                balance=cash.amount,
                position_closed=after.is_closed,
            ),
        )

    @staticmethod
    def _write_holding(position: Position, holding: Holding, mark: Decimal) -> None:
        position.quantity = storable(holding.bought, "quantity")
        position.remaining_quantity = storable(holding.quantity, "quantity")
        position.cost_basis = storable(holding.cost_basis, "cost_basis")
        position.total_invested = storable(holding.invested, "total_invested")
        position.realized_pnl = storable(holding.realized, "realized_pnl")
        position.fees_paid = storable(holding.fees, "fees_paid")
        if holding.quantity:
            position.entry_price = holding.average_price()
        elif position.entry_price is None:
            position.entry_price = mark
        position.current_price = mark
        unrealized = storable(holding.unrealized(mark), "unrealized_pnl")
        position.unrealized_pnl = unrealized
        position.unrealized_pnl_percent = percent(unrealized, holding.cost_basis)

    async def mark_to_market(
        self,
        session: AsyncSession,
        prices: Mapping[str, Decimal],
        *,
        wallet_ids: Sequence[str] | None = None,
    ) -> int:
        """Revalue open positions at ``prices`` (symbol -> price) in one UPDATE; returns the count.

        ``wallet_ids`` limits it to wallets priced by this feed (a symbol trades at different
        prices on different exchanges). Sets current price, unrealized P&L and percent, and the
        peak / lowest price the exit rules read.
        """
        if not prices:
            return 0
        for symbol, price in prices.items():
            storable(price, f"price of {symbol}")
        marks = values(
            column("symbol", String()), column("price", Numeric(65, 30)), name="marks"
        ).data(sorted(prices.items()))
        held = func.coalesce(Position.remaining_quantity, Position.quantity)
        unrealized = held * marks.c.price - Position.cost_basis
        stmt = (
            update(Position)
            .where(Position.status == OPEN, Position.symbol == marks.c.symbol)
            .values(
                current_price=marks.c.price,
                unrealized_pnl=unrealized,
                unrealized_pnl_percent=func.coalesce(
                    func.round(unrealized / func.nullif(Position.cost_basis, 0) * 100, 8), 0
                ),
                peak_price=func.greatest(
                    func.coalesce(Position.peak_price, marks.c.price), marks.c.price
                ),
                lowest_price=func.least(
                    func.coalesce(Position.lowest_price, marks.c.price), marks.c.price
                ),
                updated_at=self.clock.now(),
            )
            .execution_options(synchronize_session=False)
        )
        if wallet_ids is not None:
            stmt = stmt.where(Position.wallet_id.in_(list(wallet_ids)))
        result = await session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
