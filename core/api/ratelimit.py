"""A token bucket per API key, in process: ``burst`` requests at once, refilled at ``rate`` per
second. A refused request learns how long until the next token (``Retry-After``)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    rate: float = 5.0
    """Tokens added per second."""
    burst: int = 60
    """The bucket's size: how many requests may come at once after a quiet spell."""
    max_keys: int = 10_000
    """Buckets kept (least recently used dropped first: a dropped bucket was full anyway
    unless its key was busy, and a busy key is recently used)."""
    monotonic: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")

    def take(self, key: str) -> float | None:
        """Spend a token of ``key``'s bucket: None when allowed, else seconds to wait."""
        now = self.monotonic()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
