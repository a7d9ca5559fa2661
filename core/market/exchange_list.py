"""Which exchanges BlockbotX can trade on: every ccxt spot exchange whose unified API has what a
bot needs, read from ccxt itself (no hand-kept list, no network).

Each ccxt class is instantiated once (offline: the constructor only reads its description) for
its ``has`` capabilities, ``timeframes``, sandbox URLs (``urls['test']``), ``requiredCredentials``
and whether ``ccxt.pro`` streams it. The list is built once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

REQUIRED_CAPABILITIES = (
    "fetchMarkets",
    "fetchTicker",
    "fetchOHLCV",
    "fetchBalance",
    "createOrder",
    "fetchOrder",
    "cancelOrder",
)
"""What a bot needs of an exchange: markets and prices, the balance, and its orders' lives."""

CREDENTIAL_FIELDS = {
    "apiKey": "API key",
    "secret": "Secret",
    "password": "Passphrase",
    "uid": "User id",
    "login": "Login",
    "privateKey": "Private key",
    "walletAddress": "Wallet address",
    "token": "Token",
}
"""ccxt's credential names and what the exchange's own pages call them."""

STORABLE_CREDENTIALS = frozenset({"apiKey", "secret", "password"})
"""What an exchange connection holds in the vault (key, secret, passphrase)."""


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """One exchange as ccxt describes it."""

    id: str
    name: str
    sandbox: bool
    """ccxt knows the exchange's testnet/sandbox URLs."""
    websocket: bool
    """``ccxt.pro`` streams it."""
    timeframes: tuple[str, ...]
    credentials: tuple[str, ...]
    """ccxt's ``requiredCredentials`` that are set, e.g. ("apiKey", "secret", "password")."""

    @property
    def connectable(self) -> bool:
        """Its keys fit an exchange connection (key, secret and passphrase at most)."""
        return bool(self.credentials) and set(self.credentials) <= STORABLE_CREDENTIALS

    @property
    def needs_passphrase(self) -> bool:
        return "password" in self.credentials

    @property
    def needs_secret(self) -> bool:
        return "secret" in self.credentials

    def credential_labels(self) -> tuple[str, ...]:
        return tuple(CREDENTIAL_FIELDS.get(c, c) for c in self.credentials)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "sandbox": self.sandbox,
            "websocket": self.websocket,
            "timeframes": list(self.timeframes),
            "credentials": list(self.credentials),
            "connectable": self.connectable,
        }


def _spec(exchange_id: str, streamed: frozenset[str]) -> ExchangeSpec | None:
    import ccxt.async_support as ccxt

    client = getattr(ccxt, exchange_id)()
    has = client.has
    if not has.get("spot") or not all(has.get(c) for c in REQUIRED_CAPABILITIES):
        return None
    return ExchangeSpec(
        id=exchange_id,
        name=str(client.name or exchange_id),
        sandbox=bool(client.urls.get("test")),
        websocket=exchange_id in streamed,
        timeframes=tuple(client.timeframes or ()),
        credentials=tuple(
            name for name in CREDENTIAL_FIELDS if client.requiredCredentials.get(name)
        ),
    )


@functools.cache
def exchange_specs() -> tuple[ExchangeSpec, ...]:
    """Every qualifying ccxt exchange, by id (built once per process, offline)."""
    import ccxt.async_support as ccxt
    import ccxt.pro as ccxtpro

    streamed = frozenset(ccxtpro.exchanges)
    specs = (_spec(exchange_id, streamed) for exchange_id in ccxt.exchanges)
    return tuple(sorted((s for s in specs if s is not None), key=lambda s: s.id))


@functools.cache
def _by_id() -> dict[str, ExchangeSpec]:
    return {spec.id: spec for spec in exchange_specs()}


def find_exchange(exchange_id: str) -> ExchangeSpec | None:
    return _by_id().get(exchange_id)


def exchange_spec(exchange_id: str) -> ExchangeSpec:
    """The exchange's description, or a clear InvalidInput naming what went wrong."""
    key = (exchange_id or "").strip().lower()
    spec = find_exchange(key)
    if spec is None:
        raise InvalidInput(
            f"{key or 'nothing'!r} is not an exchange BlockbotX can trade on (every ccxt spot "
            "exchange with markets, tickers, candles, balance and orders is: see "
            "`blockbotx exchanges list`).",
            field="exchange",
        )
    return spec


def search_exchanges(text: str) -> list[ExchangeSpec]:
    """The exchanges whose id or name contains ``text`` (case-insensitive): the exact id first,
    then those starting with it, then the rest, each by name."""
    needle = text.strip().lower()
    found = [s for s in exchange_specs() if needle in s.id or needle in s.name.lower()]

    def rank(spec: ExchangeSpec) -> tuple[bool, bool, str]:
        name = spec.name.lower()
        starts = spec.id.startswith(needle) or name.startswith(needle)
        return spec.id != needle, not starts, name

    return sorted(found, key=rank)


@functools.cache
def display_name(exchange_id: str) -> str:
    """ccxt's name for the exchange ("OKX", "Kraken"), or the id itself (one class read)."""
    import ccxt.async_support as ccxt

    if exchange_id not in ccxt.exchanges:
        return exchange_id
    return str(getattr(ccxt, exchange_id)().name or exchange_id)
