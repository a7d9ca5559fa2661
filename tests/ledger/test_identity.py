"""The ledger identity through PostgreSQL, exactly (no tolerance), for any sequence of fills.

A sale that leaves less than the pair's minimum order closes the position: the dust stays in
the wallet, its cost written off as that sale's loss; the identity holds through it.

cash + market value of open positions == starting cash + realized P&L + unrealized P&L - fees
(P&L before fees; fees in the quote currency), and no balance ever goes negative. Refused
fills change nothing.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_DOWN, Decimal, localcontext

from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from core.brokers.types import Fill, Liquidity, OrderType, Side
from core.db.engine import Database
from core.db.models.bots import BotBalance
from core.db.models.trading import Position, Trade
from core.ledger.accounting import CONTEXT
from core.ledger.book import Ledger
from core.ledger.wallets import WalletInfo, open_wallet
from core.market.catalog import Pair, sync_markets
from core.market.errors import InsufficientFunds
from core.market.simulated import SimulatedMarket
from tests.ledger.strategies import operations, starting_cash
from tests.ledger.support import START, add_bot
from tests.service_users import add_user

ZERO = Decimal(0)


async def check_identity(db: Database, wallet: WalletInfo) -> None:
    with localcontext(CONTEXT):  # the check itself must not round either
        await _check_identity(db, wallet)


async def _check_identity(db: Database, wallet: WalletInfo) -> None:
    async with db.session() as s:
        balances = {
            b.asset: b
            for b in await s.scalars(select(BotBalance).where(BotBalance.wallet_id == wallet.id))
        }
        positions = list(await s.scalars(select(Position).where(Position.wallet_id == wallet.id)))
        trades = list(
            await s.scalars(select(Trade).join(Position).where(Position.wallet_id == wallet.id))
        )
    cash = balances[wallet.quote].amount
    open_ = [p for p in positions if p.status == "open"]
    value = sum((p.remaining_quantity * p.current_price for p in open_), ZERO)
    realized = sum((p.realized_pnl for p in positions), ZERO)
    unrealized = sum((p.unrealized_pnl for p in open_), ZERO)
    fees = sum((p.fees_paid for p in positions), ZERO)
    assert cash + value == wallet.initial_balance + realized + unrealized - fees
    for b in balances.values():
        assert b.amount >= b.locked >= 0
    # The trades tell the same story as the positions.
    assert sum((t.profit_loss or ZERO for t in trades), ZERO) == realized
    fee_value = sum(
        (t.fee * (t.executed_price if t.fee_currency != wallet.quote else 1) for t in trades), ZERO
    )
    assert fee_value == fees
    # What a closed position left in the wallet: dust below the minimum order, written off.
    dust: dict[str, Decimal] = {}
    for t in trades:
        p = next(p for p in positions if p.id == t.position_id)
        if p.status == "closed":
            base = p.symbol.split("/")[0]
            fee_base = t.fee if t.fee_currency == base else ZERO
            moved = t.quantity - fee_base if t.side == "BUY" else -(t.quantity + fee_base)
            dust[base] = dust.get(base, ZERO) + moved
    for p in open_:
        base = p.symbol.split("/")[0]
        assert balances[base].amount == p.remaining_quantity + dust.get(base, ZERO)
        assert p.unrealized_pnl == p.remaining_quantity * p.current_price - p.cost_basis
    for p in positions:
        if p.status == "closed":
            assert p.remaining_quantity == 0 and p.cost_basis == 0
            assert p.profit_loss == p.realized_pnl - p.fees_paid


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=starting_cash, ops=operations)
async def test_ledger_balances_exactly_for_any_fills(
    db: Database, start: Decimal, ops: list
) -> None:
    ledger = Ledger()
    actor = await add_user(db, f"identity-{uuid.uuid4().hex}@example.com")
    bot_id = await add_bot(db, actor.user_id)
    async with db.sessions.begin() as s:
        pairs: dict[str, Pair] = await sync_markets(s, SimulatedMarket(seed=1))
        wallet = await open_wallet(s, bot_id, initial_balance=start)
    for kind, symbol, amount, price, fee, fee_in_base in ops:
        pair = pairs[symbol]
        async with db.sessions.begin() as s:
            if kind == "mark":
                await ledger.mark_to_market(s, {symbol: price}, wallet_ids=[wallet.id])
                continue
            position = await ledger.open_position(s, wallet.id, symbol)
            held = ZERO if position is None else position.remaining_quantity
            if kind == "buy":
                side, qty = Side.BUY, amount
                fee_ccy = pair.info.base if fee_in_base else pair.info.quote
                fee_amount = (fee / 100).quantize(Decimal("1e-8")) if fee_in_base else fee
                if fee_in_base and fee_amount >= qty:
                    continue
            else:
                side, fee_ccy, fee_amount = Side.SELL, pair.info.quote, fee
                qty = (
                    held
                    if kind == "sell_all"
                    else (held * amount).quantize(Decimal("1e-8"), ROUND_DOWN)
                )
                if kind == "sell" and held and not qty:
                    continue
                qty = qty or Decimal("0.001")  # selling from nothing must be refused
            fill = Fill(
                client_order_id="hyp",
                symbol=symbol,
                side=side,
                quantity=qty,
                price=price,
                fee=fee_amount,
                fee_currency=fee_ccy,
                liquidity=Liquidity.TAKER,
                executed_at=START,
                is_paper=True,
                order_type=OrderType.MARKET,
            )
            before = await s.scalar(select(func.count()).select_from(Trade))
            try:
                async with s.begin_nested():
                    await ledger.apply_fill(s, fill, wallet=wallet, pair=pair)
            except InsufficientFunds:
                assert await s.scalar(select(func.count()).select_from(Trade)) == before
        await check_identity(db, wallet)


async def test_a_sale_leaving_dust_closes_the_position(db: Database) -> None:
    """Binance takes a buy's fee in the base asset: 0.001 BTC bought leaves 0.000999, of which
    0.00099 can be sold (5 decimals). The rest can never be sold, so that sale closes it."""
    ledger = Ledger()
    actor = await add_user(db, "dust@example.com")
    bot_id = await add_bot(db, actor.user_id)
    async with db.sessions.begin() as s:
        pair = (await sync_markets(s, SimulatedMarket(seed=1)))["BTC/USDT"]
        wallet = await open_wallet(s, bot_id, initial_balance=Decimal(1000))

    def fill(side: Side, quantity: str, fee: str, currency: str) -> Fill:
        return Fill(client_order_id="dust", symbol="BTC/USDT", side=side,
                    quantity=Decimal(quantity), price=Decimal(50000), fee=Decimal(fee),
                    fee_currency=currency, liquidity=Liquidity.TAKER, executed_at=START,
                    is_paper=True, order_type=OrderType.MARKET)  # fmt: skip

    async with db.sessions.begin() as s:
        await ledger.apply_fill(
            s, fill(Side.BUY, "0.001", "0.000001", "BTC"), wallet=wallet, pair=pair
        )
        sold = await ledger.apply_fill(s, fill(Side.SELL, "0.00099", "0.0495", "USDT"), wallet=wallet, pair=pair)  # fmt: skip
    assert sold.position_closed
    async with db.session() as s:
        position = await s.get(Position, sold.position_id)
        btc = await s.scalar(select(BotBalance.amount).where(
            BotBalance.wallet_id == wallet.id, BotBalance.asset == "BTC"))  # fmt: skip
        trade = await s.get(Trade, sold.trade_id)
    assert position is not None and trade is not None
    assert (position.status, position.remaining_quantity) == ("closed", 0)
    assert btc == Decimal("0.000009")  # the dust stays in the wallet
    # The sale's loss includes the dust's cost (0.000009 × 50,000 = 0.45).
    assert trade.profit_loss == Decimal("-0.45") == position.realized_pnl
    await check_identity(db, wallet)
