"""The webhook receiver over real HTTP: what is stored, and every refusal leaving nothing behind."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.signals import Signal, SignalNonce
from core.services import signals as service
from core.services.actor import Actor
from core.signals import signing
from core.signals.ingest import purge_nonces
from core.signals.receiver import create_app
from tests.service_users import add_user
from tests.signals.conftest import Receiver, body, snapshot, start_app


async def _signals(db: Database) -> list[Signal]:
    async with db.session() as s:
        return list(await s.scalars(select(Signal).order_by(Signal.created_at, Signal.id)))


async def test_a_signed_signal_is_stored_exactly(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    raw = (
        b'{"symbol": "btc/usdt", "action": "buy", "price": 65000.123456789012345678901234,'
        b' "stop_loss": "64000.5", "take_profit": 1E+5, "confidence": 87.5,'
        b' "reason": "breakout", "metadata": {"tf": "1h", "score": 0.1, "n": 3}, "id": "sig-1"}'
    )
    status, answer, _ = await receiver.post(webhook.info.url, raw, key=webhook.key)
    assert status == 201, answer
    assert answer["status"] == "accepted"
    (row,) = await _signals(db)
    assert row.id == answer["signal_id"]
    assert row.provider_id == webhook.info.id
    assert (row.symbol, row.action) == ("BTC/USDT", "BUY")
    assert row.price == Decimal("65000.123456789012345678901234")
    assert row.stop_loss == Decimal("64000.5")
    assert row.take_profit == Decimal(100000)
    assert row.confidence == Decimal("87.5")
    assert row.reason == "breakout"
    assert row.metadata_ == {"tf": "1h", "score": 0.1, "n": 3}
    assert row.external_id == "sig-1"
    assert row.processed is False
    assert row.created_at == receiver.clock.now()


async def test_the_same_provider_id_twice_is_stored_once(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    first = await receiver.post(webhook.info.url, body(id="a1"), key=webhook.key)
    receiver.clock.advance(seconds=5)  # a retry: new timestamp, new signature, same signal id
    again = await receiver.post(webhook.info.url, body(id="a1", price="1"), key=webhook.key)
    assert first[0] == 201 and again[0] == 200
    assert again[1] == {"status": "duplicate", "signal_id": first[1]["signal_id"]}
    assert len(await _signals(db)) == 1


async def test_the_signature_may_come_bare_or_prefixed_and_timestamps_skew_both_ways(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    now = int(receiver.clock.now().timestamp())
    for ts in (now - signing.WINDOW_SECONDS, now + signing.WINDOW_SECONDS):
        payload = body(reason=str(ts))
        bare = signing.sign(webhook.key, ts, payload)
        status, answer, _ = await receiver.post(
            webhook.info.url,
            payload,
            headers={signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: bare},
        )
        assert status == 201, answer
    assert len(await _signals(db)) == 2


def _refusals(webhook: service.ProviderWithKey, now: int) -> list[tuple[str, dict, int, str]]:
    key, good = webhook.key, body()
    signed = {
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: signing.sign(key, now, good),
    }
    stale = now - signing.WINDOW_SECONDS - 1
    return [
        ("no headers", {}, 400, "missing_header"),
        ("no signature", {signing.TIMESTAMP_HEADER: str(now)}, 400, "missing_header"),
        ("no timestamp", {signing.SIGNATURE_HEADER: "0" * 64}, 400, "missing_header"),
        ("timestamp not digits", {**signed, signing.TIMESTAMP_HEADER: "12.5"}, 400, "invalid_header"),
        ("signature not hex", {**signed, signing.SIGNATURE_HEADER: "xyz"}, 400, "invalid_header"),
        ("signed by another key", {**signed, signing.SIGNATURE_HEADER: signing.sign("other", now, good)}, 401, "bad_signature"),
        ("signature of another body", {**signed, signing.SIGNATURE_HEADER: signing.sign(key, now, body(action="SELL"))}, 401, "bad_signature"),
        ("timestamp changed", {**signed, signing.TIMESTAMP_HEADER: str(now - 1)}, 401, "bad_signature"),
        ("stale", {signing.TIMESTAMP_HEADER: str(stale), signing.SIGNATURE_HEADER: signing.sign(key, stale, good)}, 401, "stale_timestamp"),
        ("from the future", {signing.TIMESTAMP_HEADER: str(now + 301), signing.SIGNATURE_HEADER: signing.sign(key, now + 301, good)}, 401, "stale_timestamp"),
    ]  # fmt: skip


async def test_bad_headers_and_signatures_are_refused_and_change_nothing(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    now = int(receiver.clock.now().timestamp())
    before = await snapshot(db)
    for name, headers, status, code in _refusals(webhook, now):
        got, answer, _ = await receiver.post(webhook.info.url, body(), headers=headers)
        assert (got, answer["error"]) == (status, code), name
        assert answer["message"], name
    assert await snapshot(db) == before


MALFORMED = [
    (b"{not json", 400, "invalid_json", None),
    (b"\xff\xfe", 400, "invalid_json", None),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": NaN}', 400, "invalid_json", None),
    (b"[1, 2]", 422, "invalid_signal", None),
    (b'"BUY"', 422, "invalid_signal", None),
    (b'{"action": "BUY"}', 422, "invalid_signal", "symbol"),
    (b'{"symbol": "BTC", "action": "BUY"}', 422, "invalid_signal", "symbol"),
    (b'{"symbol": 5, "action": "BUY"}', 422, "invalid_signal", "symbol"),
    (b'{"symbol": "BTC/USDT", "action": "SHORT"}', 422, "invalid_signal", "action"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": -1}', 422, "invalid_signal", "price"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": true}', 422, "invalid_signal", "price"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": "12abc"}', 422, "invalid_signal", "price"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": "1e40"}', 422, "invalid_signal", "price"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "price": 0.0000000000000000000000000000001}', 422, "invalid_signal", "price"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "confidence": 101}', 422, "invalid_signal", "confidence"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "confidence": "high"}', 422, "invalid_signal", "confidence"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "stoploss": 5}', 422, "invalid_signal", "stoploss"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "metadata": [1]}', 422, "invalid_signal", "metadata"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "metadata": {"x": 1e400}}', 422, "invalid_signal", None),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "reason": "a\\u0000b"}', 422, "invalid_signal", None),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "reason": "\\ud800"}', 422, "invalid_signal", None),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "timestamp": "yesterday"}', 422, "invalid_signal", "timestamp"),
    (b'{"symbol": "BTC/USDT", "action": "BUY", "id": "has space"}', 422, "invalid_signal", "id"),
    ]  # fmt: skip


async def test_malformed_signed_bodies_get_a_clear_4xx_and_change_nothing(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    before = await snapshot(db)
    for raw, status, code, field in MALFORMED:
        got, answer, _ = await receiver.post(webhook.info.url, raw, key=webhook.key)
        assert (got, answer["error"]) == (status, code), (raw, answer)
        assert answer["message"], raw
        if field is not None:
            assert field in [f["field"] for f in answer["fields"]], (raw, answer)
        receiver.clock.advance(seconds=1)
    assert await snapshot(db) == before


async def test_a_replayed_request_is_refused(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    now = int(receiver.clock.now().timestamp())
    headers = {
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: signing.sign(webhook.key, now, body()),
    }
    assert (await receiver.post(webhook.info.url, body(), headers=headers))[0] == 201
    receiver.clock.advance(seconds=100)
    before = await snapshot(db)
    status, answer, _ = await receiver.post(webhook.info.url, body(), headers=headers)
    assert (status, answer["error"]) == (409, "replayed")
    assert await snapshot(db) == before
    # Once the window has passed the replay is refused as stale, and its nonce can be purged.
    receiver.clock.advance(seconds=signing.WINDOW_SECONDS)
    status, answer, _ = await receiver.post(webhook.info.url, body(), headers=headers)
    assert (status, answer["error"]) == (401, "stale_timestamp")
    async with db.sessions.begin() as s:
        assert await purge_nonces(s, receiver.clock.now()) == 1
    assert len(await _signals(db)) == 1


async def test_unknown_and_disabled_providers(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey, alice: Actor
) -> None:
    before = await snapshot(db)
    for path in ("/signals/nosuchprovider0000000000", "/signals/NOT-AN-ID", "/signals/x" * 3):
        status, answer, _ = await receiver.post(path, body(), key=webhook.key)
        assert status == 404 and answer["error"] in {"unknown_provider", "not_found"}, path
    api = await service.create_provider(
        db, alice, name="feed", type="api", url="http://127.0.0.1:9/x"
    )
    status, answer, _ = await receiver.post(f"/signals/{api.info.id}", body(), key=webhook.key)
    assert (status, answer["error"]) == (404, "unknown_provider")  # not a webhook provider
    await service.set_provider_active(db, alice, webhook.info.id, False)
    before = await snapshot(db)
    status, answer, _ = await receiver.post(webhook.info.url, body(), key=webhook.key)
    assert (status, answer["error"]) == (403, "provider_disabled")
    # Without a valid signature nobody learns that the provider exists but is disabled.
    status, answer, _ = await receiver.post(webhook.info.url, body(), key="wrong")
    assert (status, answer["error"]) == (401, "bad_signature")
    assert await snapshot(db) == before


async def test_a_rotated_key_replaces_the_old_one_at_once(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey, alice: Actor
) -> None:
    rotated = await service.rotate_provider_key(db, alice, webhook.info.id)
    assert rotated.key and rotated.key != webhook.key
    assert (await receiver.post(webhook.info.url, body(), key=webhook.key))[0] == 401
    assert (await receiver.post(webhook.info.url, body(), key=rotated.key))[0] == 201


async def test_each_provider_is_rate_limited_on_its_own(
    db: Database, receiver: Receiver, alice: Actor
) -> None:
    slow = await service.create_provider(
        db, alice, name="slow", type="webhook", config={"rate_limit_per_minute": 2}
    )
    other = await service.create_provider(db, alice, name="other", type="webhook")
    for n in range(2):
        assert (await receiver.post(slow.info.url, body(reason=str(n)), key=slow.key))[0] == 201
    before = await snapshot(db)
    status, answer, headers = await receiver.post(slow.info.url, body(reason="3"), key=slow.key)
    assert (status, answer["error"]) == (429, "rate_limited")
    assert headers["Retry-After"] == "30"
    assert await snapshot(db) == before
    assert (await receiver.post(other.info.url, body(), key=other.key))[0] == 201
    receiver.clock.advance(seconds=30)  # two per minute: one token back after 30 s
    assert (await receiver.post(slow.info.url, body(reason="4"), key=slow.key))[0] == 201


async def test_http_errors_are_json_too(
    receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    async with receiver.http.get(receiver.base + webhook.info.url) as response:
        assert response.status == 405
        assert (await response.json())["error"] == "method_not_allowed"
    async with receiver.http.get(receiver.base + "/nothing") as response:
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"
    big = body(reason="x" * 70_000)
    status, answer, _ = await receiver.post(webhook.info.url, big, key=webhook.key)
    assert (status, answer["error"]) == (413, "body_too_large")


async def test_healthz(receiver: Receiver) -> None:
    async with receiver.http.get(receiver.base + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}


async def test_a_provider_timestamp_dates_the_signal_but_never_in_the_future(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    now = receiver.clock.now()
    earlier = int((now - timedelta(minutes=3)).timestamp())
    later = (now + timedelta(hours=1)).isoformat()
    assert (
        await receiver.post(webhook.info.url, body(timestamp=earlier, id="e"), key=webhook.key)
    )[0] == 201
    assert (await receiver.post(webhook.info.url, body(timestamp=later, id="l"), key=webhook.key))[
        0
    ] == 201
    dates = {s.external_id: s.created_at for s in await _signals(db)}
    assert dates == {"e": now - timedelta(minutes=3), "l": now}


async def test_another_users_key_does_not_sign_for_my_provider(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    bob = await add_user(db, "bob@example.com")
    bobs = await service.create_provider(db, bob, name="desk", type="webhook")
    status, answer, _ = await receiver.post(webhook.info.url, body(), key=bobs.key)
    assert (status, answer["error"]) == (401, "bad_signature")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
signal_like = st.fixed_dictionaries(
    {},
    optional={
        "symbol": st.sampled_from(["BTC/USDT", "eth/usdt", "BTC", "", "A/B/C"])
        | st.text(max_size=12),
        "action": st.sampled_from(["BUY", "sell", "HOLD", "short"]) | json_values,
        "price": json_values | st.sampled_from(["1.5", "-1", "0", "1e999", "NaN"]),
        "confidence": json_values,
        "reason": json_values,
        "metadata": json_values,
        "id": json_values,
        "timestamp": json_values,
        "extra": json_values,
    },
)
bodies = (
    st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | json_values.map(lambda v: json.dumps(v).encode())
    | signal_like.map(lambda v: json.dumps(v).encode())
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=bodies)
async def test_arbitrary_signed_bodies_are_stored_or_refused_with_a_4xx(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey, raw: bytes
) -> None:
    receiver.clock.advance(seconds=1)  # each example its own timestamp: never a replay
    before = await snapshot(db)
    async with db.session() as s:
        count = await s.scalar(select(func.count()).select_from(Signal))
    status, answer, _ = await receiver.post(webhook.info.url, raw, key=webhook.key)
    if status in (200, 201):
        async with db.session() as s:
            after = await s.scalar(select(func.count()).select_from(Signal))
            nonces = await s.scalar(select(func.count()).select_from(SignalNonce))
        assert after == count + (status == 201) and nonces >= 1
    else:
        assert status in (400, 413, 422), answer
        assert answer["error"] in {"invalid_json", "invalid_signal"} and answer["message"]
        assert await snapshot(db) == before


async def test_two_receivers_share_the_replay_cache(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    """A request replayed to another receiver process (another app, same database) is refused."""
    runner, other_base = await start_app(create_app(db, clock=receiver.clock))
    try:
        other = Receiver(other_base, receiver.http, receiver.clock)
        now = int(receiver.clock.now().timestamp())
        headers = {
            signing.TIMESTAMP_HEADER: str(now),
            signing.SIGNATURE_HEADER: signing.sign(webhook.key, now, body()),  # type: ignore[arg-type]
        }
        assert (await receiver.post(webhook.info.url, body(), headers=headers))[0] == 201
        status, answer, _ = await other.post(webhook.info.url, body(), headers=headers)
        assert (status, answer["error"]) == (409, "replayed")
    finally:
        await runner.cleanup()
    assert len(await _signals(db)) == 1


async def test_a_signed_webhook_must_say_it_sends_json(
    db: Database, receiver: Receiver, webhook: service.ProviderWithKey
) -> None:
    before = await snapshot(db)
    for kind in ("text/plain", "application/x-www-form-urlencoded", "application/octet-stream"):
        got, answer, headers = await receiver.post(
            webhook.info.url, body(id=f"t-{kind}"), key=webhook.key, headers={"Content-Type": kind}
        )
        assert (got, answer["error"]) == (415, "unsupported_media_type"), kind
        assert "application/json" in answer["message"] and kind in answer["message"]
        assert headers["Accept-Post"] == "application/json"
    assert await snapshot(db) == before
    got, answer, _ = await receiver.post(
        webhook.info.url,
        body(id="with-charset"),
        key=webhook.key,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert (got, answer["status"]) == (201, "accepted")
