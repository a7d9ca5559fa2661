"""Notifying users: ``notify`` stores rows (the outbox); ``deliver_due`` sends them on channels.

Delivery (and its HTTP client) loads on first use: every service that notifies imports this
package, and the dashboard's start-up shouldn't pay for aiohttp before anything is sent.
"""

from typing import Any

from core.notifications.create import notify

__all__ = ["DeliveryReport", "deliver_due", "notify", "run_delivery_loop"]
_DELIVERY = {"DeliveryReport", "deliver_due", "run_delivery_loop"}


def __getattr__(name: str) -> Any:
    if name in _DELIVERY:
        from core.notifications import delivery

        return getattr(delivery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
