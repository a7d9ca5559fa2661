"""The knobs and dependencies of authentication, injectable as one value.

Production uses ``AuthConfig()``; tests pass a ``FrozenClock``, a cheap ``Hasher`` and a fixed
vault so lockout windows and expiries are exact and the suite stays fast.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.clock import SYSTEM_CLOCK, Clock
from core.security import totp
from core.security.passwords import Hasher, default_hasher
from core.security.vault import Vault, get_vault


@dataclass(frozen=True)
class AuthConfig:
    clock: Clock = SYSTEM_CLOCK
    hasher: Hasher = field(default_factory=default_hasher)
    vault: Vault | None = None
    """None: the process's vault (master key read once)."""
    max_failed_attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(days=7)
    challenge_lifetime: timedelta = timedelta(minutes=5)
    reset_token_lifetime: timedelta = timedelta(minutes=30)
    ip_window: timedelta = timedelta(minutes=15)
    ip_throttle_after: int = 10
    """Failed or refused attempts from one address within the window before it is refused."""
    ip_block_after: int = 20
    """... and before it goes on ``blocked_ips`` for ``ip_block_for``."""
    ip_block_for: timedelta = timedelta(hours=1)
    new_totp_secret: Callable[[], str] = totp.new_secret

    def now(self) -> datetime:
        return self.clock.now()

    def get_vault(self) -> Vault:
        return self.vault or get_vault()

    def signing_key(self, purpose: str) -> bytes:
        """A key for MACs, derived from the master key so it survives restarts of the app."""
        return hmac.new(
            self.get_vault().key, f"blockbotx|{purpose}".encode(), hashlib.sha256
        ).digest()


DEFAULT_AUTH = AuthConfig()
