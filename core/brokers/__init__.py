"""Brokers: one interface (``Broker.place`` / ``cancel``), a paper and a ccxt implementation.

Brokers never touch the database: they turn an ``OrderRequest`` into a ``BrokerOrder`` with its
``Fill``s, and ``core.ledger`` records those.
"""

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.paper import PaperBroker, SlippageModel
from core.brokers.types import (
    Broker,
    BrokerOrder,
    Fill,
    Funds,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    new_client_order_id,
)

__all__ = [
    "Broker",
    "BrokerOrder",
    "CcxtBroker",
    "Fill",
    "Funds",
    "Liquidity",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PaperBroker",
    "Side",
    "SlippageModel",
    "new_client_order_id",
]
