"""Creating ccxt (async) exchange clients: one place that knows the options we rely on.

Any exchange of ``exchange_list`` (every qualifying ccxt spot exchange); spot only, no currency
endpoint (it needs extra key rights we never ask for), rate limiting on, testnet through
``set_sandbox_mode``. ``api_origin`` sends every API call to another server
with the same paths: the tests' fake exchange and the doctor's checks use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import InvalidInput
from core.market.exchange_list import exchange_spec
from core.market.lazy_ccxt import ccxt

_OPTIONS: dict[str, dict[str, Any]] = {
    # Exchanges whose market list spans every product type unless asked for spot alone.
    "binance": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False},
    "okx": {"fetchMarkets": {"types": ["spot"]}},
    "bybit": {
        "fetchMarkets": {"types": ["spot"]},
        # Reconciling asks for recent orders only (Bybit keeps the last 500 queryable).
        "fetchOrder": {"acknowledged": True},
    },
}

_CLIENT_ID_PARAM = dict.fromkeys(("bybit", "bybiteu", "bybitid"), "orderLinkId")
"""Exchanges whose ccxt ``fetch_order`` passes the client order id on under its own name only."""


def client_id_params(exchange_id: str, client_order_id: str) -> dict[str, str]:
    """The params that find an order by our client order id (fetch and cancel)."""
    return {_CLIENT_ID_PARAM.get(exchange_id, "clientOrderId"): client_order_id}


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ExchangeFactory:
    api_origin: str | None = None
    """e.g. ``http://127.0.0.1:8765``: keep each API path, change scheme and host."""
    timeout_ms: int = 10_000
    rate_limit: bool = True

    def create(
        self,
        exchange_id: str,
        credentials: Credentials | None = None,
        *,
        testnet: bool = False,
    ) -> ccxt.Exchange:
        spec = exchange_spec(exchange_id)
        if testnet and not spec.sandbox:
            raise InvalidInput(f"{spec.name} has no testnet (sandbox) in ccxt.", field="testnet")
        config: dict[str, Any] = {
            "enableRateLimit": self.rate_limit,
            "timeout": self.timeout_ms,
            "options": {"defaultType": "spot", "fetchCurrencies": False}
            | _OPTIONS.get(spec.id, {}),
        }
        if credentials is not None:
            config["apiKey"] = credentials.api_key
            config["secret"] = credentials.secret
            if credentials.passphrase is not None:
                config["password"] = credentials.passphrase
        exchange: ccxt.Exchange = getattr(ccxt, spec.id)(config)
        exchange.has["fetchCurrencies"] = False
        if testnet:
            exchange.set_sandbox_mode(True)
        if self.api_origin:
            exchange.urls["api"] = _reroute(exchange.urls["api"], self.api_origin)
        return exchange


def _reroute(urls: Any, origin: str) -> Any:
    if isinstance(urls, dict):
        return {key: _reroute(value, origin) for key, value in urls.items()}
    if isinstance(urls, str):
        target = urlsplit(origin)
        parts = urlsplit(urls)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return urls
