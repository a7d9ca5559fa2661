"""Authentication costs: argon2id login verify (production parameters) and the vault's
AES-256-GCM encrypt+decrypt of an exchange-key-sized secret.

Run: ``python bench/bench_auth.py``. A plain script that prints figures (not a test).
"""

from __future__ import annotations

import os
import statistics
import time

from core.security.passwords import Hasher, default_hasher
from core.security.vault import Vault, generate_key


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, samples: list[float], unit: float, label: str) -> None:
    print(
        f"{name:<44} median {statistics.median(samples) / unit:9.3f} {label}   "
        f"min {min(samples) / unit:9.3f}   max {max(samples) / unit:9.3f}   (n={len(samples)})"
    )


def main() -> None:
    print(f"cpus: {os.cpu_count()}")
    hasher = default_hasher()
    stored = hasher.hash("correct horse battery staple")
    params = f"t={hasher.time_cost}, m={hasher.memory_cost // 1024} MiB, p={hasher.parallelism}"
    report(
        f"argon2id verify ({params})",
        timed(lambda: hasher.verify(stored, "correct horse battery staple"), 10),
        1e-3,
        "ms",
    )
    minimum = Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    weak = minimum.hash("x")
    report(
        "argon2id verify (OWASP minimum t=2, 19 MiB)",
        timed(lambda: minimum.verify(weak, "x"), 10),
        1e-3,
        "ms",
    )

    vault = Vault(generate_key())
    secret = "x" * 64  # an exchange API secret is typically 64 characters

    def round_trip() -> None:
        sealed = vault.encrypt(
            secret, table="exchange_connections", owner_id="user", field="encrypted_secret_key"
        )
        vault.decrypt(
            sealed, table="exchange_connections", owner_id="user", field="encrypted_secret_key"
        )

    for _ in range(100):
        round_trip()
    report("vault encrypt+decrypt (64-char secret)", timed(round_trip, 5000), 1e-6, "µs")


if __name__ == "__main__":
    main()
