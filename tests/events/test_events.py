"""Events out (issue 18): a real receiving HTTP server verifies every delivery with
``standardwebhooks``; retries after 500s and timeouts with back-off, replay, automatic
disable, event order per order, on both engines."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running
from tests.events_helpers import SLOW, Receiver, Shop, eventually, fast, verify
from tracker.core import clock
from tracker.events.leaks import publish_leaks
from tracker.events.worker import retry_delay, schedule
from tracker.settings import Settings

pytestmark = pytest.mark.anyio


async def test_signed_events_for_attribution_refund_and_cancellation(settings: Settings) -> None:
    async with Receiver() as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url, description="warehouse")
        assert ep["secret"].startswith("whsec_") and ep["status"] == "active"
        shown = await live.client.get(f"/api/v1/webhooks/{ep['id']}", headers=shop.auth)
        assert "secret" not in shown.json() and ep["secret"] not in shown.text

        created = await shop.order("A-1", customer_email="Jane.Doe@example.com", ip="198.51.100.9")
        await rx.wait(lambda r: len(r.ok()) == 1)
        first = verify(ep["secret"], rx.hits[0])
        assert first["type"] == "order.attributed"
        order = first["data"]["order"]
        assert order["id"] == created["order_id"] and order["external_id"] == "A-1"
        assert order["creator"] == {"id": shop.creators["maya"], "handle": "maya"}
        assert (order["total_minor"], order["net_minor"], order["currency"]) == (4999, 4999, "EUR")
        assert order["method"] == "code" and order["shop"] == "gen"
        raw = rx.hits[0].body.decode()
        assert "jane" not in raw.lower() and "198.51.100" not in raw and "customer" not in raw
        assert rx.hits[0].headers["webhook-id"].startswith("evt_")

        # the same postback again changes nothing, so publishes nothing
        await shop.order("A-1", customer_email="Jane.Doe@example.com", ip="198.51.100.9")
        # a refund, then a cancellation: order.updated with the reason, in that order
        await shop.order("A-1", refunds=[{"id": "r1", "amount_minor": 1999}])
        await shop.order("A-1", refunds=[{"id": "r1", "amount_minor": 1999}], status="cancelled")
        await rx.wait(lambda r: len(r.ok()) == 3)
        bodies = [verify(ep["secret"], h) for h in rx.ok()]
        assert [b["type"] for b in bodies] == ["order.attributed", "order.updated", "order.updated"]
        assert bodies[1]["data"]["reasons"] == ["refund"]
        assert bodies[1]["data"]["order"]["net_minor"] == 3000
        assert bodies[1]["data"]["previous"]["net_minor"] == 4999
        assert bodies[2]["data"]["reasons"] == ["cancellation"]
        assert bodies[2]["data"]["order"]["net_minor"] == 0
        assert len({h.id for h in rx.ok()}) == 3

        # the events API shows the same bodies, newest first; an unattributed order has none
        await shop.order("U-1", discount_codes=[])
        r = await live.client.get("/api/v1/events?subject=order:" + order["id"], headers=shop.auth)
        items = r.json()["items"]
        assert [i["seq"] for i in items] == [3, 2, 1]
        assert items[-1]["body"] == first
        everything = (await live.client.get("/api/v1/events", headers=shop.auth)).json()["items"]
        assert len(everything) == 3


async def test_reattribution_is_an_update_with_the_previous_creator(settings: Settings) -> None:
    async with Receiver() as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url, event_types=["order.updated"])
        await shop.order("R-1")
        await shop.order("R-1", discount_codes=["BOB10"], updated_at="2026-11-20T11:00:00Z")
        await rx.wait(lambda r: len(r.ok()) == 1)
        body = verify(ep["secret"], rx.hits[0])
        assert body["type"] == "order.updated" and body["data"]["reasons"] == ["reattribution"]
        assert body["data"]["order"]["creator"]["handle"] == "bob"
        assert body["data"]["previous"]["creator_id"] == shop.creators["maya"]


async def test_retries_after_500_and_timeout_with_backoff(settings: Settings) -> None:
    async with Receiver(script=[500, "sleep:1.5", 503]) as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url)
        await shop.order("B-1")
        await rx.wait(lambda r: len(r.ok()) == 1)
        hits = rx.hits
        assert [h.status for h in hits] == [500, SLOW, 503, 200]
        assert len({h.id for h in hits}) == 1  # one event id across every attempt
        for h in hits:
            verify(ep["secret"], h)  # each attempt freshly signed
        # waits: 0.05 s after the 1st failure, the 1 s timeout + 0.1 s, then 0.2 s
        assert hits[1].at - hits[0].at >= 0.05
        assert hits[2].at - hits[1].at >= 1.0 + 0.1 - 0.02
        assert hits[3].at - hits[2].at >= 0.2 - 0.02

        async def logged() -> list[dict[str, object]]:
            r = await live.client.get(f"/api/v1/webhooks/{ep['id']}/attempts", headers=shop.auth)
            items: list[dict[str, object]] = r.json()["items"]
            return items if len(items) == 4 else []

        attempts = sorted(await eventually(logged), key=lambda a: a["attempt"])
        assert [(a["attempt"], a["status_code"], a["error"]) for a in attempts] == [
            (1, 500, "HTTP 500"),
            (2, None, "timeout"),
            (3, 503, "HTTP 503"),
            (4, 200, ""),
        ]
        d = await live.client.get(f"/api/v1/webhooks/{ep['id']}/deliveries", headers=shop.auth)
        [delivery] = d.json()["items"]
        assert delivery["status"] == "delivered" and delivery["attempts"] == 4


def test_default_schedule_spans_more_than_a_day(tmp_path: Path) -> None:
    s = Settings.from_env({"TRACKER_DATA_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "k" * 40})
    waits = schedule(s)
    assert len(waits) == s.webhook_max_attempts - 1 == 13
    assert waits[:4] == [30, 60, 120, 240] and waits[-1] == 6 * 3600
    assert 24 * 3600 < sum(waits) < 30 * 3600
    assert retry_delay(1, 30, 21600) == 30 and retry_delay(60, 30, 21600) == 21600


async def test_give_up_disable_enable_and_replay(settings: Settings) -> None:
    fastish = fast(settings, webhook_max_attempts=2, webhook_disable_after=4)
    async with Receiver(default=500) as rx, running(fastish) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url)
        url = f"/api/v1/webhooks/{ep['id']}"
        await shop.order("F-1")
        await rx.wait(lambda r: len(r.hits) == 2)
        await shop.order("F-2")
        await rx.wait(lambda r: len(r.hits) == 4)

        async def disabled() -> dict[str, str] | None:
            got: dict[str, str] = (await live.client.get(url, headers=shop.auth)).json()
            return got if got["status"] == "disabled" else None

        got = await eventually(disabled)
        assert got["status"] == "disabled" and "4 failed attempts" in got["disabled_reason"]
        failed = await live.client.get(url + "/deliveries?status=failed", headers=shop.auth)
        assert len(failed.json()["items"]) == 2
        # while disabled nothing is attempted, but events still queue for it
        await shop.order("F-3")
        for _ in range(10):
            await live.state.events.run_once()
        assert len(rx.hits) == 4
        rx.default = 200
        r = await live.client.patch(url, headers=shop.auth, json={"status": "active"})
        assert r.json()["status"] == "active" and r.json()["consecutive_failures"] == 0
        await rx.wait(lambda r: len(r.ok()) == 1)
        assert verify(ep["secret"], rx.ok()[0])["data"]["order"]["external_id"] == "F-3"
        # replay every failed delivery: F-1 and F-2 arrive, with their original event ids
        first_ids = {rx.hits[0].id, rx.hits[2].id}
        r = await live.client.post(url + "/replay", headers=shop.auth, json={})
        assert r.status_code == 202 and r.json()["queued"] == 2
        await rx.wait(lambda r: len(r.ok()) == 3)
        assert {h.id for h in rx.ok()[1:]} == first_ids
        # replay one delivered event by id: sent again, same id
        r = await live.client.post(
            url + "/replay", headers=shop.auth, json={"event_id": rx.hits[0].id}
        )
        assert r.json()["queued"] == 1
        await rx.wait(lambda r: len(r.ok()) == 4)
        assert rx.ok()[-1].id == rx.hits[0].id
        bad = await live.client.post(
            url + "/replay", headers=shop.auth, json={"event_id": "evt_nope"}
        )
        assert bad.status_code == 404


async def test_an_orders_events_arrive_in_order(settings: Settings) -> None:
    """The refund's event waits while the attribution's event is being retried."""
    async with Receiver(script=[500, 500]) as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url)
        await shop.order("O-1")
        await shop.order("O-1", refunds=[{"id": "r1", "amount_minor": 999}])
        await shop.order("O-2", discount_codes=["BOB10"])
        await rx.wait(lambda r: len(r.ok()) == 3)
        o1 = [
            (verify(ep["secret"], h)["type"], h.status)
            for h in rx.hits
            if json.loads(h.body)["data"]["order"]["external_id"] == "O-1"
        ]
        assert o1[-2:] == [("order.attributed", 200), ("order.updated", 200)]
        assert all(t == "order.attributed" for t, _ in o1[:-1])


async def test_endpoint_rules(settings: Settings) -> None:
    async with running(settings) as live:  # private addresses refused by default
        auth = await live.token()
        c = live.client
        for url in (
            "http://127.0.0.1:9/hook",
            "http://10.0.0.5/hook",
            "http://localhost/x",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
        ):
            r = await c.post("/api/v1/webhooks", headers=auth, json={"url": url})
            assert r.status_code == 422, (url, r.text)
        r = await c.post(
            "/api/v1/webhooks",
            headers=auth,
            json={"url": "https://hooks.example.com/in", "event_types": ["order.refunded"]},
        )
        assert r.status_code == 422 and "order.refunded" in r.text
        r = await c.post(
            "/api/v1/webhooks", headers=auth, json={"url": "https://hooks.example.com/in"}
        )
        assert r.status_code == 201
        ep = r.json()
        rotated = await c.patch(
            f"/api/v1/webhooks/{ep['id']}", headers=auth, json={"rotate_secret": True}
        )
        assert rotated.json()["secret"] != ep["secret"]
        assert (await c.get("/api/v1/webhooks", headers={})).status_code == 401
        assert (await c.delete(f"/api/v1/webhooks/{ep['id']}", headers=auth)).status_code == 200
        assert (await c.get(f"/api/v1/webhooks/{ep['id']}", headers=auth)).status_code == 404


async def test_code_leak_flagged_once_per_week(settings: Settings) -> None:
    async with Receiver() as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(rx.url, event_types=["code.leak_flagged"])
        for i in range(4):
            await shop.order(f"L-{i}")
        assert await publish_leaks(live.store, live.state.settings) == 0  # 4: not yet
        await shop.order("L-4")  # 5 redemptions, none after a click of maya's
        assert await publish_leaks(live.store, live.state.settings) == 1
        assert await publish_leaks(live.store, live.state.settings) == 0  # once a week
        await rx.wait(lambda r: len(r.ok()) == 1)
        body = verify(ep["secret"], rx.ok()[0])
        assert body["type"] == "code.leak_flagged"
        data = body["data"]
        assert (data["handle"], data["codes"], data["redemptions"]) == ("maya", ["MAYA10"], 5)
        assert data["without_click_pct"] == 100.0
        later = clock.now() + 8 * 86400
        assert await publish_leaks(live.store, live.state.settings, now=later) == 1


def _resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """The loop's getaddrinfo (which httpx's connections use too) answering each name in
    ``answers`` with its next list of addresses, the last one from then on; other names as
    the system would. Returns the names looked up, in order."""
    real = asyncio.BaseEventLoop.getaddrinfo
    asked: list[str] = []

    async def fake(self: Any, host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host  # anyio passes IDNA bytes
        if name not in answers:
            return await real(self, host, port, *args, **kw)
        asked.append(name)
        ips = answers[name][min(asked.count(name), len(answers[name])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", fake)
    return asked


async def test_a_rebinding_name_is_never_connected_to_an_address_not_checked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a name answers a public address to the worker's check and 127.0.0.1 to
    any later lookup. The worker connects to the address it checked (unreachable here), so
    the server's own network is never reached: the local receiver gets nothing."""
    asked = _resolver(monkeypatch, {"hooks.rebind.example": [["93.184.215.14"], ["127.0.0.1"]]})
    strict = fast(settings, webhook_allow_private=False, webhook_timeout_seconds=0.5)
    async with Receiver() as rx, running(strict) as live:
        shop = await Shop.make(live)
        await shop.endpoint(f"http://hooks.rebind.example:{rx.port}/hook")
        await shop.order("R-1")
        deadline = time.monotonic() + 20
        while live.state.events.attempts < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert live.state.events.attempts >= 2  # a first attempt and a retry, both refused
    assert rx.hits == []
    assert asked.count("hooks.rebind.example") == live.state.events.attempts  # one per attempt


async def test_a_named_endpoint_keeps_its_host_and_falls_back_to_its_next_address(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address connected to is the one resolved, but the receiver sees the endpoint's
    own name in Host; an address that refuses the connection (nothing listens on 127.0.0.2)
    is followed by the next one the name resolved to."""
    _resolver(monkeypatch, {"hooks.local.example": [["127.0.0.2", "127.0.0.1"]]})
    async with Receiver() as rx, running(fast(settings)) as live:
        shop = await Shop.make(live)
        ep = await shop.endpoint(f"http://hooks.local.example:{rx.port}/hook")
        await shop.order("H-1")
        await rx.wait(lambda r: len(r.ok()) == 1)
    assert rx.hits[0].headers["host"] == f"hooks.local.example:{rx.port}"
    assert verify(ep["secret"], rx.hits[0])["type"] == "order.attributed"
