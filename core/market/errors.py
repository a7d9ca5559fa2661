"""Errors on the money path: exchange failures and order rejections, each with a clear message.

``translate`` turns any ccxt exception into one of these, so nothing above ``core.market`` /
``core.brokers`` ever sees a ccxt error or a raw exchange payload.
"""

from __future__ import annotations

from core.errors import InvalidInput, ServiceError
from core.market.exchange_list import display_name
from core.market.lazy_ccxt import ccxt, loaded

SIMULATED = "simulated"


def venue_name(exchange_id: str, *, testnet: bool = False) -> str:
    name = "The simulated market" if exchange_id == SIMULATED else display_name(exchange_id)
    return f"{name} testnet" if testnet else name


class ExchangeFailure(ServiceError):
    """The exchange could not be used just now. ``retryable``: trying again may work."""

    retryable = False


class RateLimited(ExchangeFailure):
    retryable = True


class ExchangeUnavailable(ExchangeFailure):
    retryable = True


class ExchangeTimeout(ExchangeFailure):
    retryable = True


class StalePrice(ExchangeFailure):
    """No fresh price for a symbol (its stream is down and polling fails): entries and exits
    on it wait rather than act on an old price."""

    retryable = True


class OrderOutcomeUnknown(ExchangeFailure):
    """The exchange never confirmed or denied an order; it stays pending until reconciled."""

    retryable = True


class ExchangeAuthFailed(ExchangeFailure):
    """Wrong key/secret/passphrase, a bad signature, or a key without the needed permission."""


class InsufficientFunds(InvalidInput):
    """Not enough balance for the order (paper wallet or exchange account). Nothing was placed."""


class BelowMinimum(InvalidInput):
    """The size is under the pair's minimum (or over its maximum). Nothing was placed."""


class UnknownSymbol(InvalidInput):
    pass


class OrderRejected(InvalidInput):
    """The exchange refused the order for another stated reason."""


def translate(exc: Exception, venue: str) -> ServiceError:
    """A clear, typed error for a ccxt exception raised while talking to ``venue``."""
    if isinstance(exc, ServiceError):
        return exc
    if not loaded():
        raise exc  # no ccxt error exists before ccxt is imported
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(f"{venue} says the balance is insufficient for this order.")
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
        return ExchangeAuthFailed(
            f"{venue} rejected the API credentials (wrong key, secret or passphrase, a bad "
            "signature, or a key without trade permission). Check the exchange connection."
        )
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(f"{venue} does not list this trading pair.", field="symbol")
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(f"{venue} is rate limiting requests; try again in a minute.")
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeTimeout(f"{venue} did not answer in time (network timeout).")
    if isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.NetworkError):
        return ExchangeUnavailable(f"{venue} is unavailable right now; try again shortly.")
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderRejected(f"{venue} has no such order.")
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest):
        return OrderRejected(f"{venue} rejected the order: {_reason(exc)}")
    if isinstance(exc, ccxt.BaseError):
        return ExchangeUnavailable(f"{venue} answered with an error: {_reason(exc)}")
    raise exc


def _reason(exc: Exception) -> str:
    """The exchange's own message (ccxt prefixes the exchange id and may append JSON)."""
    text = str(exc).strip()
    start, end = text.find('"msg":"'), -1
    if start >= 0:
        start += len('"msg":"')
        end = text.find('"', start)
        return text[start:end]
    return text.split(" ", 1)[1] if " " in text else text
