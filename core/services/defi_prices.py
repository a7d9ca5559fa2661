"""The USD prices a portfolio was last valued at, recovered from its stored positions.

BlockbotX has no on-chain price source: valuing DeFi positions takes prices from the user. To
save typing, a form is pre-filled with the prices each token had at its last valuation:

- staking: price = value / (amount + rewards);
- liquidity (constant product, balanced at valuation): each side holds half the value, so
  P0 = value / (2·x) and P1 = value / (2·y);
- farms: only when one side is a stablecoin (price 1) is the other side determined:
  P = (value − stable amount) / amount.

Where several positions give a price for the same token, the most recently valued wins. The
prices are rounded to 12 significant digits: the square roots of the pool maths leave noise in
the last of the 30 stored decimals that nobody wants to see in a form.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal, localcontext

from core.defi import maths
from core.services.defi import STABLECOINS, Portfolio

SIGNIFICANT = 12


def _set(
    found: dict[str, tuple[datetime, Decimal]], symbol: str, at: datetime, price: Decimal
) -> None:
    if price > 0 and (symbol not in found or found[symbol][0] < at):
        found[symbol] = (at, price)


def implied_prices(portfolio: Portfolio) -> dict[str, Decimal]:
    """Symbol → USD price at the last valuation, for every token the portfolio determines."""
    found: dict[str, tuple[datetime, Decimal]] = {}
    with maths.precise():
        for s in portfolio.staking:
            held = s.amount + s.rewards
            if held > 0:
                _set(found, s.token_symbol, s.last_updated, s.value_usd / held)
        for p in portfolio.liquidity:
            if p.token0_amount > 0 and p.token1_amount > 0:
                half = p.current_value_usd / 2
                _set(found, p.token0_symbol, p.last_updated, half / p.token0_amount)
                _set(found, p.token1_symbol, p.last_updated, half / p.token1_amount)
        for f in portfolio.farms:
            for stable, amount_s, other, amount_o in (
                (f.token0_symbol, f.token0_amount, f.token1_symbol, f.token1_amount),
                (f.token1_symbol, f.token1_amount, f.token0_symbol, f.token0_amount),
            ):
                if stable in STABLECOINS and other not in STABLECOINS and amount_o > 0:
                    _set(found, other, f.last_updated, (f.value_usd - amount_s) / amount_o)
    with localcontext(Context(prec=SIGNIFICANT)):
        return {symbol: (+price).normalize() for symbol, (_, price) in sorted(found.items())}


def symbols_of(portfolio: Portfolio, *, active_only: bool = True) -> list[str]:
    """Every token symbol the portfolio's (active) positions need a price for."""
    out: set[str] = set()
    for s in portfolio.staking:
        if s.status == "active" or not active_only:
            out.add(s.token_symbol)
    for f in portfolio.farms:
        if f.status == "active" or not active_only:
            out |= {f.token0_symbol, f.token1_symbol}
            if f.reward_token_symbol:
                out.add(f.reward_token_symbol)
    for p in portfolio.liquidity:
        if p.status == "active" or not active_only:
            out |= {p.token0_symbol, p.token1_symbol}
    return sorted(out)
