"""Every endpoint over real HTTP: the owner with the right scope succeeds; no key, a revoked or
an expired key is 401; the wrong scope is 403; another user's object is 404. Refusals change
nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.bots import Bot
from core.db.models.signals import Signal
from core.db.models.trading import Order, Position
from core.services import api_keys
from tests.api.conftest import ALL_SCOPES, Api, World, key_for

ORDER = {"symbol": "BTC/USDT", "side": "buy", "quantity": "0.001"}
NEW_BOT = {
    "name": "From the API",
    "type": "signal",
    "config": {
        "symbol": "ETH/USDT",
        "timeframe": "1h",
        "indicator": {"name": "ema_cross", "fast": 8, "slow": 21},
    },
    "risk_settings": {"stop_loss_percent": 3},
    "initial_balance": "2500.50",
}
# (method, path, scope, JSON body): ids in braces come from a World
ENDPOINTS: list[tuple[str, str, str, Any]] = [
    ("GET", "/account", "read", None),
    ("GET", "/account/balances", "read", None),
    ("GET", "/bots", "read", None),
    ("GET", "/bots/{bot_id}", "read", None),
    ("GET", "/bots/{bot_id}/performance", "read", None),
    ("GET", "/positions", "read", None),
    ("GET", "/orders", "read", None),
    ("GET", "/trades", "read", None),
    ("GET", "/trades/totals", "read", None),
    ("GET", "/trades.csv", "read", None),
    ("GET", "/profit/daily", "read", None),
    ("GET", "/analytics/30d", "read", None),
    ("GET", "/backtests", "read", None),
    ("GET", "/backtests/{backtest_id}", "read", None),
    ("GET", "/notifications", "read", None),
    ("POST", "/notifications/{notification_id}/read", "read", None),
    ("POST", "/orders/estimate", "trade", ORDER),
    ("POST", "/orders", "trade", ORDER),
    ("POST", "/orders/{order_id}/cancel", "trade", None),
    ("POST", "/positions/{position_id}/close", "trade", None),
    ("POST", "/bots", "bots", NEW_BOT),
    ("PATCH", "/bots/{bot_id}", "bots", {"description": "edited over HTTP"}),
    ("POST", "/bots/{bot_id}/start", "bots", None),
    ("POST", "/bots/{bot_id}/pause", "bots", None),
    ("POST", "/bots/{bot_id}/resume", "bots", None),
    ("POST", "/bots/{bot_id}/stop", "bots", {"close_positions": False}),
    ("POST", "/backtests", "bots", {"dataset_id": "{dataset_id}", "bot_id": "{bot_id}"}),
    (
        "POST",
        "/signals/{provider_id}",
        "signals",
        {"symbol": "BTC/USDT", "action": "buy", "price": 65000.1},
    ),
]


def _fill(value: Any, world: World) -> Any:
    ids = {k: v for k, v in vars(world).items() if isinstance(v, str)}
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


async def _call(client: httpx.AsyncClient, method: str, path: str, body: Any, world: World):  # type: ignore[no-untyped-def]
    return await client.request(method, _fill(path, world), json=_fill(body, world))


async def _fingerprint(db: Database) -> tuple[int, ...]:
    async with db.session() as s:
        return tuple(
            [
                int(await s.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Bot, Order, Position, AuditLog)
            ]
            + [
                hash(tuple(await s.scalars(select(Bot.status).order_by(Bot.id)))),
                hash(tuple(await s.scalars(select(Order.status).order_by(Order.id)))),
            ]
        )


def _is_problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]


async def test_refusals_for_every_endpoint_change_nothing(
    api: Api, db: Database, worlds: tuple[World, World]
) -> None:
    alice, bob = worlds
    revoked = {s: await key_for(db, alice.actor, s, name=f"gone-{s}") for s in ALL_SCOPES}
    for info in await api_keys.list_api_keys(db, alice.actor):
        await api_keys.revoke_api_key(db, alice.actor, info.id)
    expired = {s: await key_for(db, alice.actor, s, expired=True) for s in ALL_SCOPES}
    right = {s: await key_for(db, alice.actor, s) for s in ALL_SCOPES}
    wrong = {
        s: await key_for(db, alice.actor, *(o for o in ALL_SCOPES if o != s)) for s in ALL_SCOPES
    }
    before = await _fingerprint(db)
    async with api.client() as anonymous:
        for method, path, scope, body in ENDPOINTS:
            what = f"{method} {path}"
            _is_problem(await _call(anonymous, method, path, body, alice), 401)
            for bad in (revoked[scope], expired[scope], "bbx_nothing", "not-even-a-key"):
                async with api.client(bad) as client:
                    answer = await _call(client, method, path, body, alice)
                    _is_problem(answer, 401)
                    assert answer.headers["www-authenticate"] == "Bearer", what
            async with api.client(wrong[scope]) as client:
                answer = await _call(client, method, path, body, alice)
                _is_problem(answer, 403)
                assert f"lacks the '{scope}' scope" in answer.json()["detail"], what
            if (_fill(path, alice), _fill(body, alice)) != (_fill(path, bob), _fill(body, bob)):
                async with api.client(right[scope]) as client:
                    answer = await _call(client, method, path, body, bob)  # Bob's objects
                    _is_problem(answer, 404)
                    assert "No " in answer.json()["detail"], what
    assert await _fingerprint(db) == before


async def test_the_owner_with_the_right_scope_gets_every_endpoint(
    api: Api, db: Database, worlds: tuple[World, World]
) -> None:
    alice, _bob = worlds
    keys = {s: await key_for(db, alice.actor, s) for s in ALL_SCOPES}
    answers: dict[str, httpx.Response] = {}
    for method, path, scope, body in ENDPOINTS:
        async with api.client(keys[scope]) as client:
            answer = await _call(client, method, path, body, alice)
        assert answer.status_code in (200, 201), f"{method} {path}: {answer.text}"
        answers[f"{method} {path}"] = answer
    assert answers["GET /account"].json()["email"] == "alice@example.com"
    bots = answers["GET /bots"].json()
    assert [b["id"] for b in bots] == [alice.bot_id]
    assert isinstance(bots[0]["pnl"], str)  # money is a decimal string
    created = answers["POST /bots"].json()
    assert created["status"] == "inactive" and created["name"] == "From the API"
    assert answers["PATCH /bots/{bot_id}"].json()["description"] == "edited over HTTP"
    assert answers["POST /bots/{bot_id}/start"].json()["status"] == "active"
    assert answers["POST /bots/{bot_id}/pause"].json()["status"] == "paused"
    assert answers["POST /bots/{bot_id}/resume"].json()["status"] == "active"
    assert answers["POST /bots/{bot_id}/stop"].json()["bot"]["status"] == "inactive"
    assert answers["POST /orders"].status_code == 201
    assert answers["POST /orders/{order_id}/cancel"].json()["status"] == "cancelled"
    closed = answers["POST /positions/{position_id}/close"].json()
    assert closed["side"] == "sell" and closed["status"] == "filled"
    assert answers["POST /notifications/{notification_id}/read"].json()["read"] is True
    estimate = answers["POST /orders/estimate"].json()
    assert estimate["symbol"] == "BTC/USDT" and isinstance(estimate["fee"], str)
    csv_answer = answers["GET /trades.csv"]
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.text.splitlines()
    assert lines[0].startswith("executed_at,id,symbol") and len(lines) == 2  # the one buy
    days = answers["GET /profit/daily"].json()
    assert len(days) == 30 and sum(d["trades"] for d in days) == 1
    figures = answers["GET /analytics/30d"].json()
    assert set(figures) == {"portfolio", "bot_performance", "trading", "defi"}
    assert figures["trading"]["period"] == "30d"
    run = answers["POST /backtests"].json()
    assert run["backtest_id"] and "final_equity" in run["result"]
    report = answers["GET /backtests/{backtest_id}"].json()
    assert report["summary"]["id"] == alice.backtest_id
    posted = answers["POST /signals/{provider_id}"].json()
    async with db.session() as s:
        signal = await s.get(Signal, posted["signal_id"])
    assert signal is not None and signal.provider_id == alice.provider_id
    assert signal.action == "BUY" and str(signal.price).startswith("65000.100000")
    # every successful write left an audit row naming the key by its prefix only
    async with db.session() as s:
        audited = list(await s.scalars(select(AuditLog).where(AuditLog.action == "api_write")))
    writes = [e for e in ENDPOINTS if e[0] != "GET"]
    assert len(audited) == len(writes)
    assert all(a.user_id == alice.actor.user_id for a in audited)
    prefixes = {(a.details or {})["key_prefix"] for a in audited}
    assert prefixes <= {k[:12] for k in keys.values()}
    assert not any(k in str(a.details) for a in audited for k in keys.values())
    # last use recorded
    listed = {i.prefix: i for i in await api_keys.list_api_keys(db, alice.actor)}
    assert all(
        listed[k[:12]].last_used_at is not None for k in keys.values() if k != keys["signals"]
    )
