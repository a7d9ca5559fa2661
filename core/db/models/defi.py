"""DeFi and wallets: wallets, staking/farm/liquidity positions, protocol and pool registries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    money,
    updated_at_column,
)


class Wallet(Base):
    """A user's blockchain wallet used for DeFi interactions."""

    __tablename__ = "wallets"
    __table_args__ = (
        UniqueConstraint("user_id", "address", "chain"),
        Index(None, "user_id"),
        Index(None, "address"),
        Index(None, "chain"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    address: Mapped[str]
    chain: Mapped[str]
    name: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    encrypted_key: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class StakingPosition(Base):
    """A token staking position on a DeFi protocol (status: active, unstaking, completed)."""

    __tablename__ = "staking_positions"
    __table_args__ = (
        Index(None, "wallet_id"),
        Index(None, "protocol"),
        Index(None, "chain"),
        Index(None, "status"),
        Index(None, "wallet_id", "status"),
        Index(None, "chain", "status"),
    )

    id: Mapped[str] = id_column()
    wallet_id: Mapped[str] = mapped_column(fk("wallets.id"))
    protocol: Mapped[str]
    chain: Mapped[str]
    token_address: Mapped[str]
    token_symbol: Mapped[str]
    amount: Mapped[Decimal] = money()
    value_usd: Mapped[Decimal] = money()
    apy: Mapped[Decimal] = money()
    rewards: Mapped[Decimal] = money(default=0)
    staked_at: Mapped[datetime]
    last_updated: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class FarmPosition(Base):
    """A yield farming position with LP token and reward tracking (status: active, withdrawn)."""

    __tablename__ = "farm_positions"
    __table_args__ = (
        Index(None, "wallet_id"),
        Index(None, "protocol"),
        Index(None, "chain"),
        Index(None, "status"),
        Index(None, "wallet_id", "status"),
        Index(None, "chain", "status"),
    )

    id: Mapped[str] = id_column()
    wallet_id: Mapped[str] = mapped_column(fk("wallets.id"))
    protocol: Mapped[str]
    chain: Mapped[str]
    farm_address: Mapped[str]
    lp_token_address: Mapped[str]
    lp_token_amount: Mapped[Decimal] = money()
    token0_symbol: Mapped[str]
    token1_symbol: Mapped[str]
    token0_amount: Mapped[Decimal] = money()
    token1_amount: Mapped[Decimal] = money()
    value_usd: Mapped[Decimal] = money()
    apy: Mapped[Decimal] = money()
    rewards_earned: Mapped[Decimal] = money(default=0)
    reward_token_symbol: Mapped[str | None]
    deposited_at: Mapped[datetime]
    last_harvest: Mapped[datetime | None]
    last_updated: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LiquidityPosition(Base):
    """A liquidity pool position with impermanent-loss tracking (status: active, removed)."""

    __tablename__ = "liquidity_positions"
    __table_args__ = (
        Index(None, "wallet_id"),
        Index(None, "protocol"),
        Index(None, "chain"),
        Index(None, "status"),
        Index(None, "wallet_id", "status"),
        Index(None, "chain", "status"),
    )

    id: Mapped[str] = id_column()
    wallet_id: Mapped[str] = mapped_column(fk("wallets.id"))
    protocol: Mapped[str]
    chain: Mapped[str]
    pool_address: Mapped[str]
    lp_token_address: Mapped[str]
    lp_token_amount: Mapped[Decimal] = money()
    token0_symbol: Mapped[str]
    token1_symbol: Mapped[str]
    token0_amount: Mapped[Decimal] = money()
    token1_amount: Mapped[Decimal] = money()
    initial_token0_amount: Mapped[Decimal] = money()
    initial_token1_amount: Mapped[Decimal] = money()
    initial_value_usd: Mapped[Decimal] = money()
    current_value_usd: Mapped[Decimal] = money()
    impermanent_loss: Mapped[Decimal] = money(default=0)
    fees_earned: Mapped[Decimal] = money(default=0)
    added_at: Mapped[datetime]
    last_updated: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DeFiProtocol(Base):
    """Registry entry for a DeFi protocol with TVL and 24h volume (category: dex, lending, ...)."""

    __tablename__ = "defi_protocols"
    __table_args__ = (Index(None, "chain"), Index(None, "category"), Index(None, "is_active"))

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(unique=True)
    chain: Mapped[str]
    category: Mapped[str]
    tvl: Mapped[Decimal] = money(default=0)
    volume_24h: Mapped[Decimal] = money(default=0)
    website: Mapped[str | None]
    logo: Mapped[str | None]
    description: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LiquidityPool(Base):
    """Metadata about an available liquidity pool; one row per protocol, chain and pair."""

    __tablename__ = "liquidity_pools"
    __table_args__ = (
        UniqueConstraint("protocol", "chain", "pair"),
        Index(None, "protocol"),
        Index(None, "chain"),
    )

    id: Mapped[str] = id_column()
    protocol: Mapped[str]
    chain: Mapped[str]
    pair: Mapped[str]
    token0: Mapped[str]
    token1: Mapped[str]
    tvl: Mapped[Decimal] = money()
    apy: Mapped[Decimal] = money()
    volume_24h: Mapped[Decimal] = money()
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


__all__ = [
    "DeFiProtocol",
    "FarmPosition",
    "LiquidityPool",
    "LiquidityPosition",
    "StakingPosition",
    "Wallet",
]
