"""A schemathesis run over the OpenAPI document against the running server: valid and invalid
requests for every operation, with a key holding every scope. No answer may be a server error,
every refusal is a problem document, and a refused write changes nothing in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from sqlalchemy import text

from core.db.engine import Database
from tests.api.conftest import ALL_SCOPES, Api, World, key_for

EXAMPLES = 4  # per operation and mode: enough to reach every branch of the input checks
TABLES = (
    "bots", "bot_wallets", "bot_balances", "orders", "positions", "trades", "notifications",
    "backtests", "audit_logs", "exchange_connections", "historical_datasets", "signals",
    "signal_providers",
)  # fmt: skip


FINGERPRINT = text(
    " UNION ALL ".join(
        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        for table in TABLES
    )
)


async def _fingerprint(db: Database) -> tuple[str, ...]:
    async with db.session() as s:
        return tuple(await s.scalars(FINGERPRINT))


@dataclass
class Fuzz:
    base: str
    key: str
    fingerprint: Callable[[], tuple[str, ...]]
    statuses: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, case: Any, write: bool, mode: GenerationMode) -> None:
        before = self.fingerprint() if write else None
        answer = case.call(base_url=self.base, headers={"Authorization": f"Bearer {self.key}"})
        self.statuses.append(answer.status_code)
        where = f"{case.method} {case.formatted_path} ({mode.value})"
        if answer.status_code >= 500:
            self.problems.append(f"{where}: {answer.status_code} {answer.text[:300]}")
        elif answer.status_code >= 400:
            kind = {k.lower(): v for k, v in answer.headers.items()}.get("content-type", [""])
            if not kind[0].startswith("application/problem+json"):
                self.problems.append(f"{where}: {answer.status_code} is not a problem document")
            if write and self.fingerprint() != before:
                self.problems.append(f"{where}: refused ({answer.status_code}) but changed data")

    def run(self, operation: Any, mode: GenerationMode) -> None:
        write = operation.method.upper() != "GET"

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            self.check(case, write, mode)

        check()

    def all(self, spec: dict[str, Any]) -> None:
        for result in schemathesis.openapi.from_dict(spec).get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self.run(result.ok(), mode)


async def test_fuzzed_requests_never_fail_the_server_and_refusals_change_nothing(
    api: Api, db: Database, worlds: tuple[World, World]
) -> None:
    alice, _bob = worlds
    key = await key_for(db, alice.actor, *ALL_SCOPES)
    loop = asyncio.get_running_loop()
    async with api.client() as client:
        spec = (await client.get("/openapi.json")).json()
    spec["servers"] = [{"url": api.base}]

    def fingerprint() -> tuple[str, ...]:
        return asyncio.run_coroutine_threadsafe(_fingerprint(db), loop).result(60)

    fuzz = Fuzz(api.base, key, fingerprint)
    await asyncio.to_thread(fuzz.all, spec)
    assert fuzz.problems == []
    assert any(s < 300 for s in fuzz.statuses) and 422 in fuzz.statuses, fuzz.statuses
