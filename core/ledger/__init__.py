"""The trading ledger: orders -> trades -> positions -> wallet balances, exact to the last digit.

- ``OrderDesk``: an order's life (paper in one transaction; live committed before and after the
  exchange call), resting paper orders, cancel, reconcile;
- ``Ledger.apply_fill``: books one fill; ``Ledger.mark_to_market``: revalues open positions;
- ``wallets``: bot wallets and balances, the hidden manual-trading bot;
- ``snapshots``: wallet values, hourly wallet snapshots, portfolio history.

The definitions of P&L and the identity the ledger keeps are in ``accounting`` and
docs/ledger.md.
"""

from core.ledger.accounting import Holding
from core.ledger.book import AppliedFill, CloseReason, Ledger
from core.ledger.orders import OrderDesk, OrderResult
from core.ledger.wallets import (
    DEFAULT_PAPER_BALANCE,
    Balance,
    WalletFunds,
    WalletInfo,
    get_wallet,
    manual_wallet,
    open_wallet,
)

__all__ = [
    "DEFAULT_PAPER_BALANCE",
    "AppliedFill",
    "Balance",
    "CloseReason",
    "Holding",
    "Ledger",
    "OrderDesk",
    "OrderResult",
    "WalletFunds",
    "WalletInfo",
    "get_wallet",
    "manual_wallet",
    "open_wallet",
]
