"""The API's gate: a banned or suspended owner's key stops at once, the rate limit, problem
details for bad input (with the services' own messages), the OpenAPI document and docs page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.api.ratelimit import RateLimiter
from core.clock import SYSTEM_CLOCK
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.users import User
from tests.api.conftest import Api, key_for, start_api
from tests.service_users import add_user


@pytest.mark.parametrize(
    "change",
    [
        {"status": "banned", "banned_at": SYSTEM_CLOCK.now(), "banned_reason": "fraud"},
        {"status": "suspended", "suspended_until": SYSTEM_CLOCK.now() + timedelta(days=1)},
    ],
    ids=["banned", "suspended"],
)
async def test_a_banned_or_suspended_owner_is_refused_at_once(
    api: Api, db: Database, change: dict[str, object]
) -> None:
    alice = await add_user(db, "alice@example.com")
    key = await key_for(db, alice, "read")
    async with api.client(key) as client:
        assert (await client.get("/account")).status_code == 200
        async with db.sessions.begin() as s:
            await s.execute(update(User).where(User.id == alice.user_id).values(**change))
        refused = await client.get("/account")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The account of this API key can't be used right now."


@pytest.fixture
async def tight_api(db: Database) -> AsyncIterator[Api]:
    # a refill so slow that no token comes back while the test runs
    async for running in start_api(db, RateLimiter(rate=0.001, burst=3)):
        yield running


async def test_rate_limit_per_key_answers_429_with_retry_after(
    tight_api: Api, db: Database
) -> None:
    alice = await add_user(db, "alice@example.com")
    first, second = (
        await key_for(db, alice, "read", name="a"),
        await key_for(db, alice, "read", name="b"),
    )
    async with tight_api.client(first) as client:
        statuses = [(await client.get("/account")).status_code for _ in range(4)]
        limited = await client.get("/account")
    assert statuses == [200, 200, 200, 429]
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert int(limited.headers["retry-after"]) >= 1
    assert "slow down" in limited.json()["detail"]
    async with tight_api.client(second) as other:  # each key has its own bucket
        assert (await other.get("/account")).status_code == 200


def test_token_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(rate=2, burst=2, monotonic=lambda: now[0])
    assert [limiter.take("k"), limiter.take("k")] == [None, None]
    assert limiter.take("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take("k") is None and limiter.take("k") is not None
    with pytest.raises(ValueError):
        RateLimiter(rate=0)


async def test_bad_input_is_a_problem_with_the_service_message_and_changes_nothing(
    api: Api, db: Database
) -> None:
    alice = await add_user(db, "alice@example.com")
    key = await key_for(db, alice, "bots", "trade", "read")
    async with api.client(key) as client:
        bad_qty = await client.post(
            "/orders", json={"symbol": "BTC/USDT", "side": "buy", "quantity": "lots"}
        )
        bad_side = await client.post(
            "/orders/estimate", json={"symbol": "BTC/USDT", "side": "hold", "quantity": "1"}
        )
        bad_bot = await client.post(
            "/bots", json={"name": "x", "type": "signal", "config": {"indicator": {"name": "nope"}}}
        )
        bad_amount = await client.post(
            "/bots", json={"name": "y", "type": "dca", "config": {"quote_amount": "lots"}}
        )
        bad_limit_type = await client.get("/trades?limit=many")
        no_json = await client.post(
            "/bots", content=b"{not json", headers={"content-type": "application/json"}
        )
        bad_limit = await client.get("/trades?limit=0")
        bad_range = await client.get(
            "/trades",
            params={"since": "2026-01-02T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"},
        )
    assert (
        bad_qty.status_code == 422
        and bad_qty.json()["detail"] == "Quantity 'lots' is not a number."
    )
    assert bad_side.json()["detail"] == "Side must be buy or sell."
    assert bad_side.json()["errors"] == [{"field": "side", "message": "Side must be buy or sell."}]
    assert bad_bot.status_code == 422 and bad_bot.json()["errors"][0]["field"].startswith("config")
    # pydantic's words said as a person would, the field path kept for programs
    assert bad_amount.status_code == 422
    assert bad_amount.json()["detail"] == "Quote amount must be a number."
    assert bad_amount.json()["errors"] == [
        {"field": "config.quote_amount", "message": "Quote amount must be a number."}
    ]
    assert bad_limit_type.json()["errors"] == [
        {"field": "limit", "message": "Limit must be a whole number."}
    ]
    assert no_json.status_code == 422
    assert bad_limit.status_code == 422 and bad_limit.json()["errors"][0]["field"] == "limit"
    assert bad_range.json()["detail"] == "The date range ends before it starts."
    for answer in (bad_qty, bad_side, bad_bot, no_json, bad_limit, bad_range):
        assert answer.headers["content-type"].startswith("application/problem+json")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Bot)) == 0


async def test_openapi_document_and_offline_docs_page(api: Api) -> None:
    async with api.client() as client:
        spec = (await client.get("/openapi.json")).json()
        page = await client.get("/docs")
    assert spec["info"]["title"] == "BlockbotX API"
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    close = spec["paths"]["/api/v1/positions/{position_id}/close"]["post"]
    assert close["x-scope"] == "trade" and "403" in close["responses"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/api/v1/bots/{bot_id}/start" in page.text and "<script" not in page.text
    assert "scope <code>bots</code>" in page.text


async def test_hostile_values_are_422_never_a_server_error(api: Api, db: Database) -> None:
    """NUL characters (PostgreSQL text can't hold them) and numbers beyond what the ledger
    stores are bad input like any other."""
    alice = await add_user(db, "alice@example.com")
    key = await key_for(db, alice, "read", "bots", "trade")
    nul = "\x00"
    order = {"symbol": "BTC/USDT", "side": "buy"}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/trades", {"params": {"symbol": nul}}),
        ("GET", "/trades.csv", {"params": {"bot_id": nul}}),
        ("GET", "/bots", {"params": {"search": nul}}),
        ("GET", "/positions", {"params": {"bot_id": nul}}),
        ("GET", "/bots/%00", {}),
        ("POST", "/bots", {"json": {"name": f"a{nul}b", "type": "signal"}}),
        ("POST", "/orders", {"json": {**order, "symbol": f"BTC{nul}/USDT", "quantity": "1"}}),
        ("POST", "/orders", {"json": {**order, "quantity": "1e999999"}}),
        ("POST", "/orders/estimate", {"json": {**order, "quantity": "1", "price": "1e-99"}}),
        ("POST", "/bots", {"json": {"name": "x", "type": "signal", "initial_balance": "9e99"}}),
        ("POST", "/backtests", {"json": {"dataset_id": "x", "cash": "1e400"}}),
    ]
    async with api.client(key) as client:
        answers = [await client.request(m, path, **kw) for m, path, kw in requests]
    for (method, path, _), answer in zip(requests, answers, strict=True):
        assert answer.status_code == 422, f"{method} {path}: {answer.text}"
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert answers[0].json()["detail"] == "Text can't contain NUL characters (\\u0000)."
    assert "more digits than the ledger stores" in answers[7].json()["detail"]
    assert answers[7].json()["errors"][0]["field"] == "quantity"
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Bot)) == 0
