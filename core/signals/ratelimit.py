"""A token bucket per provider: a burst of ``per_minute`` requests, refilled evenly over a minute.

The buckets live in the receiver process (cheap, and they stop a flood before it reaches the
database); with several receiver processes each one allows the rate on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.clock import Clock

MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: datetime


@dataclass
class RateLimiter:
    clock: Clock
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, per_minute: int) -> float | None:
        """Spend one token; None when allowed, else the seconds until the next token."""
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.clear()  # ids of deleted providers must not pile up forever
            bucket = self._buckets[key] = _Bucket(float(per_minute), now)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        bucket.tokens = min(float(per_minute), bucket.tokens + elapsed * per_minute / 60)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) * 60 / per_minute
