"""Creating ccxt (async) exchange clients: one place that knows the options we rely on.

Spot only, no currency endpoint (it needs extra key rights we never ask for), rate limiting on,
testnet through ``set_sandbox_mode``. ``api_origin`` sends every API call to another server
with the same paths: the tests' fake exchange and the doctor's checks use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt

from core.errors import InvalidInput

SUPPORTED_EXCHANGES = ("binance", "okx")
NEEDS_PASSPHRASE = frozenset({"okx"})

_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
    },
    "okx": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
}


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
        if exchange_id not in SUPPORTED_EXCHANGES:
            raise InvalidInput(
                f"Unsupported exchange {exchange_id!r}; BlockbotX connects to "
                f"{' and '.join(SUPPORTED_EXCHANGES)}.",
                field="exchange",
            )
        config: dict[str, Any] = {
            "enableRateLimit": self.rate_limit,
            "timeout": self.timeout_ms,
            "options": dict(_OPTIONS[exchange_id]),
        }
        if credentials is not None:
            config["apiKey"] = credentials.api_key
            config["secret"] = credentials.secret
            if credentials.passphrase is not None:
                config["password"] = credentials.passphrase
        exchange: ccxt.Exchange = getattr(ccxt, exchange_id)(config)
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
