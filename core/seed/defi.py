"""Well-known DeFi protocols and pools for the registries.

TVL, 24 h volume and pool APY are not fetched from anywhere (BlockbotX has no on-chain data
source yet), so they are seeded as 0, meaning "unknown", never as made-up figures. Token
addresses are the canonical mainnet contracts, checked against their EIP-55 checksums.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.defi import DeFiProtocol, LiquidityPool
from core.defi.address import validate_address

PROTOCOLS: tuple[tuple[str, str, str, str, str], ...] = (
    # name, chain, category, website, description
    ("Uniswap", "ethereum", "dex", "https://uniswap.org", "Automated market maker; v2 pools are constant-product (x·y = k)."),
    ("SushiSwap", "ethereum", "dex", "https://www.sushi.com", "Constant-product AMM forked from Uniswap v2, with yield farms."),
    ("Curve", "ethereum", "dex", "https://curve.fi", "AMM specialised in swaps between like-priced assets (stablecoins)."),
    ("Aave", "ethereum", "lending", "https://aave.com", "Lending market: deposit to earn interest, borrow against collateral."),
    ("Compound", "ethereum", "lending", "https://compound.finance", "Algorithmic money market for lending and borrowing."),
    ("Lido", "ethereum", "staking", "https://lido.fi", "Liquid staking of ETH (stETH)."),
    ("Yearn", "ethereum", "yield", "https://yearn.fi", "Vaults that move deposits between yield strategies."),
    ("PancakeSwap", "bsc", "dex", "https://pancakeswap.finance", "Constant-product AMM on BNB Smart Chain, with farms and staking pools."),
    ("Venus", "bsc", "lending", "https://venus.io", "Lending and borrowing on BNB Smart Chain."),
    ("QuickSwap", "polygon", "dex", "https://quickswap.exchange", "Constant-product AMM on Polygon."),
)  # fmt: skip

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
WBNB = "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c"
BUSD = "0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56"
WMATIC = "0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270"
USDC_POLYGON = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"

POOLS: tuple[tuple[str, str, str, str, str], ...] = (
    # protocol, chain, pair, token0, token1
    ("uniswap-v2", "ethereum", "WETH/USDC", WETH, USDC),
    ("uniswap-v2", "ethereum", "WETH/USDT", WETH, USDT),
    ("uniswap-v2", "ethereum", "DAI/WETH", DAI, WETH),
    ("sushiswap", "ethereum", "WETH/USDC", WETH, USDC),
    ("pancakeswap", "bsc", "WBNB/BUSD", WBNB, BUSD),
    ("quickswap", "polygon", "WMATIC/USDC", WMATIC, USDC_POLYGON),
)


async def seed_defi_registry(session: AsyncSession) -> None:
    """Insert the entries that are missing; existing rows (and their figures) are left alone."""
    await session.execute(
        insert(DeFiProtocol)
        .values(
            [
                {"name": n, "chain": c, "category": cat, "website": w, "description": d}
                for n, c, cat, w, d in PROTOCOLS
            ]
        )
        .on_conflict_do_nothing(index_elements=["name"])
    )
    zero = Decimal(0)
    await session.execute(
        insert(LiquidityPool)
        .values(
            [
                {
                    "protocol": p,
                    "chain": c,
                    "pair": pair,
                    "token0": validate_address(t0, c),
                    "token1": validate_address(t1, c),
                    "tvl": zero,
                    "apy": zero,
                    "volume_24h": zero,
                }
                for p, c, pair, t0, t1 in POOLS
            ]
        )
        .on_conflict_do_nothing(index_elements=["protocol", "chain", "pair"])
    )
