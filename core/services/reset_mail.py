"""Email a password reset token straight to its owner.

The token goes out through the same SMTP transport as notifications but never through a
``notifications`` row: those are stored, and the token must exist only as its hash.
"""

from __future__ import annotations

from core.config import Settings
from core.notifications.transports import DeliveryFailed, Outgoing, send_email
from core.services.accounts import ResetToken


def reset_message(issued: ResetToken) -> Outgoing:
    return Outgoing(
        subject="Your BlockbotX password reset",
        body=(
            "A one-time password reset token was issued for your BlockbotX account.\n\n"
            f"    {issued.token}\n\n"
            f"Sign in with it as your password before {issued.expires_at:%Y-%m-%d %H:%M} UTC, "
            "then choose a new password. It works once. If you didn't ask for this, tell an "
            "administrator."
        ),
    )


async def email_reset_token(settings: Settings, issued: ResetToken) -> None:
    """Raises DeliveryFailed (with the reason) when the mail can't be handed to the server."""
    if not settings.smtp_host:
        raise DeliveryFailed("Email is not configured (smtp_host).", permanent=True)
    await send_email(settings, issued.email, reset_message(issued))
