"""Notifying users: ``notify`` stores rows (the outbox); ``deliver_due`` sends them on channels."""

from core.notifications.create import notify
from core.notifications.delivery import DeliveryReport, deliver_due, run_delivery_loop

__all__ = ["DeliveryReport", "deliver_due", "notify", "run_delivery_loop"]
