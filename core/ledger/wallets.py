"""Bot wallets (Nexgent): a simulation wallet per paper bot, a live one per exchange-trading bot.

Each wallet holds ``bot_balances`` rows, one per asset: ``amount`` is what the wallet owns and
``locked`` the part reserved by resting orders, so what can be spent is ``amount - locked``.
Invariant kept by every write here and in the ledger: ``amount >= locked >= 0``.

Manual trades (without a bot) use a *manual bot*: a hidden bot of type ``manual`` per user and
venue (one for paper trading, one per exchange connection) that only holds the wallet and its
positions. Positions need a bot (``positions.bot_id`` is required); the trades of manual
orders keep ``bot_id`` NULL as the seed says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import Bot, BotBalance, BotWallet
from core.errors import Conflict, InvalidInput, NotFound
from core.ids import new_id
from core.ledger.accounting import storable
from core.ledger.cash_flows import EXCHANGE, FUNDING, record_flow
from core.market.errors import InsufficientFunds

SIMULATION = "simulation"
LIVE = "live"
MANUAL_BOT_TYPE = "manual"
DEFAULT_QUOTE = "USDT"
DEFAULT_PAPER_BALANCE = Decimal("10000")
"""What a paper wallet starts with unless told otherwise (USDT)."""


@dataclass(frozen=True, slots=True)
class WalletInfo:
    id: str
    bot_id: str
    user_id: str
    wallet_type: str
    quote: str
    initial_balance: Decimal
    exchange_connection_id: str | None
    is_manual: bool
    paper_market: str | None = None
    """The exchange whose public prices a simulation wallet trades on (None: simulated)."""

    @property
    def is_paper(self) -> bool:
        return self.wallet_type == SIMULATION

    @property
    def trade_bot_id(self) -> str | None:
        """``trades.bot_id``: NULL for manual trades."""
        return None if self.is_manual else self.bot_id


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    amount: Decimal
    locked: Decimal

    @property
    def available(self) -> Decimal:
        return self.amount - self.locked


def wallet_info(wallet: BotWallet, bot: Bot) -> WalletInfo:
    """A wallet row and its bot as the ledger uses them."""
    return WalletInfo(
        id=wallet.id,
        bot_id=bot.id,
        user_id=bot.user_id,
        wallet_type=wallet.wallet_type,
        quote=wallet.quote_currency,
        initial_balance=wallet.initial_balance,
        exchange_connection_id=wallet.exchange_connection_id,
        is_manual=bot.type == MANUAL_BOT_TYPE,
        paper_market=wallet.paper_market,
    )


async def open_wallet(
    session: AsyncSession,
    bot_id: str,
    *,
    wallet_type: str = SIMULATION,
    initial_balance: Decimal = DEFAULT_PAPER_BALANCE,
    quote: str = DEFAULT_QUOTE,
    exchange_connection_id: str | None = None,
    paper_market: str | None = None,
    at: datetime | None = None,
) -> WalletInfo:
    """Create a bot's wallet with its starting cash (a live wallet starts empty until synced);
    a simulation wallet with a ``paper_market`` trades on that exchange's public prices. The
    starting cash is recorded as a cash flow ``at`` (default: the database's now)."""
    if wallet_type not in (SIMULATION, LIVE):
        raise InvalidInput("A wallet is either 'simulation' or 'live'.", field="wallet_type")
    if wallet_type == SIMULATION:
        storable(initial_balance, "initial_balance")
        if initial_balance < 0:
            raise InvalidInput("The starting balance can't be negative.", field="initial_balance")
    else:
        initial_balance = Decimal(0)
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise NotFound(f"No bot {bot_id!r}.")
    exists = await session.scalar(
        select(BotWallet.id).where(BotWallet.bot_id == bot_id, BotWallet.wallet_type == wallet_type)
    )
    if exists:
        raise Conflict(f"The bot already has a {wallet_type} wallet.")
    wallet = BotWallet(
        id=new_id(),
        bot_id=bot_id,
        wallet_type=wallet_type,
        quote_currency=quote,
        initial_balance=initial_balance,
        exchange_connection_id=exchange_connection_id,
        paper_market=paper_market if wallet_type == SIMULATION else None,
    )
    session.add(wallet)
    await session.flush()
    session.add(BotBalance(wallet_id=wallet.id, asset=quote, amount=initial_balance, locked=0))
    await session.flush()
    await record_flow(
        session,
        user_id=bot.user_id,
        wallet_id=wallet.id,
        amount=initial_balance,
        currency=quote,
        reason=FUNDING,
        at=at,
    )
    return wallet_info(wallet, bot)


async def get_wallet(session: AsyncSession, wallet_id: str) -> WalletInfo:
    row = (
        await session.execute(
            select(BotWallet, Bot)
            .join(Bot, Bot.id == BotWallet.bot_id)
            .where(BotWallet.id == wallet_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No wallet {wallet_id!r}.")
    return wallet_info(*row)


async def bot_wallet(session: AsyncSession, bot_id: str, wallet_type: str) -> WalletInfo | None:
    row = (
        await session.execute(
            select(BotWallet, Bot)
            .join(Bot, Bot.id == BotWallet.bot_id)
            .where(BotWallet.bot_id == bot_id, BotWallet.wallet_type == wallet_type)
        )
    ).first()
    return wallet_info(*row) if row else None


async def manual_wallet(
    session: AsyncSession,
    user_id: str,
    *,
    connection_id: str | None = None,
    venue: str = "paper",
    initial_balance: Decimal = DEFAULT_PAPER_BALANCE,
    at: datetime | None = None,
) -> WalletInfo:
    """The user's wallet for manual trades: paper (no connection) or live on one connection
    (``at``: when it is funded, if it is created now)."""
    # Serialise creation per user so two screens can't create two manual bots at once.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"manual-bot:{user_id}"}
    )
    stmt = select(Bot).where(
        Bot.user_id == user_id,
        Bot.type == MANUAL_BOT_TYPE,
        Bot.paper_trading.is_(connection_id is None),
    )
    if connection_id is not None:
        stmt = stmt.where(Bot.config["exchange_connection_id"].astext == connection_id)
    bot = await session.scalar(stmt)
    wallet_type = SIMULATION if connection_id is None else LIVE
    if bot is None:
        bot = Bot(
            id=new_id(),
            user_id=user_id,
            name=f"Manual trading ({venue})",
            description="Holds manual trades; not a strategy bot.",
            type=MANUAL_BOT_TYPE,
            status="inactive",
            config={"manual": True, "exchange_connection_id": connection_id},
            risk_settings={},
            paper_trading=connection_id is None,
        )
        session.add(bot)
        await session.flush()
        return await open_wallet(
            session,
            bot.id,
            wallet_type=wallet_type,
            initial_balance=initial_balance,
            exchange_connection_id=connection_id,
            at=at,
        )
    wallet = await bot_wallet(session, bot.id, wallet_type)
    if wallet is None:
        return await open_wallet(
            session,
            bot.id,
            wallet_type=wallet_type,
            initial_balance=initial_balance,
            exchange_connection_id=connection_id,
            at=at,
        )
    return wallet


async def balances(session: AsyncSession, wallet_id: str) -> dict[str, Balance]:
    rows = await session.scalars(
        select(BotBalance).where(BotBalance.wallet_id == wallet_id).order_by(BotBalance.asset)
    )
    return {row.asset: Balance(row.asset, row.amount, row.locked) for row in rows}


async def lock_balances(
    session: AsyncSession, wallet_id: str, assets: set[str]
) -> dict[str, BotBalance]:
    """The wallet's balance rows for ``assets``, created at zero if missing, locked FOR UPDATE."""
    stmt = (
        select(BotBalance)
        .where(BotBalance.wallet_id == wallet_id, BotBalance.asset.in_(assets))
        .order_by(BotBalance.asset)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = {row.asset: row for row in await session.scalars(stmt)}
    missing = assets - set(rows)
    if missing:
        await session.execute(
            insert(BotBalance)
            .values(
                [
                    {"id": new_id(), "wallet_id": wallet_id, "asset": a, "amount": 0, "locked": 0}
                    for a in sorted(missing)
                ]
            )
            .on_conflict_do_nothing(index_elements=[BotBalance.wallet_id, BotBalance.asset])
        )
        rows = {row.asset: row for row in await session.scalars(stmt)}
    return rows


@dataclass
class WalletFunds:
    """``Funds`` for the paper broker: what the wallet may spend right now."""

    session: AsyncSession
    wallet_id: str

    async def available(self, asset: str) -> Decimal:
        row = await self.session.scalar(
            select(BotBalance.amount - BotBalance.locked).where(
                BotBalance.wallet_id == self.wallet_id, BotBalance.asset == asset
            )
        )
        return row if row is not None else Decimal(0)


async def reserve(session: AsyncSession, wallet_id: str, asset: str, amount: Decimal) -> None:
    """Lock ``amount`` of ``asset`` for a resting order, or raise InsufficientFunds."""
    row = (await lock_balances(session, wallet_id, {asset}))[asset]
    if row.amount - row.locked < amount:
        raise InsufficientFunds(
            f"Insufficient {asset}: {amount.normalize():f} is needed and "
            f"{(row.amount - row.locked).normalize():f} is free.",
            field="quantity",
        )
    row.locked = storable(row.locked + amount, "locked")
    await session.flush()


async def release(session: AsyncSession, wallet_id: str, asset: str, amount: Decimal) -> None:
    row = (await lock_balances(session, wallet_id, {asset}))[asset]
    row.locked = max(Decimal(0), row.locked - amount)
    await session.flush()


async def sync_balances(session: AsyncSession, wallet_id: str, totals: dict[str, Decimal]) -> None:
    """Make a live wallet's amounts what the exchange reports (the exchange is the truth). A
    change of the quote cash is money moved on the exchange: a cash flow, not profit."""
    await lock_balances(session, wallet_id, set(totals) or {DEFAULT_QUOTE})
    rows = await session.scalars(
        select(BotBalance).where(BotBalance.wallet_id == wallet_id).with_for_update()
    )
    info = await get_wallet(session, wallet_id)
    moved = Decimal(0)
    for row in rows:
        amount = storable(totals.get(row.asset, Decimal(0)), "balance")
        if row.asset == info.quote:
            moved = amount - row.amount
        row.amount = amount
        row.locked = min(row.locked, amount)
    await session.flush()
    await record_flow(
        session,
        user_id=info.user_id,
        wallet_id=wallet_id,
        amount=moved,
        currency=info.quote,
        reason=EXCHANGE,
    )
