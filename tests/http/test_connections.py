"""Units of the connection guards (tracker/http/connections.py) and the access-log
redaction (tracker/http/accesslog.py); the real-server behaviour is in
tests/reliability/test_slow_clients.py and test_serving.py."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from tracker.http.accesslog import redact
from tracker.http.connections import AddressGate, InFlightGateMiddleware


def test_gate_caps_each_address_and_exempts_trusted_proxies() -> None:
    gate = AddressGate(2, (ipaddress.ip_network("10.0.0.0/8"),))
    assert [gate.enter("198.51.100.1") for _ in range(3)] == [True, True, False]
    assert gate.enter("198.51.100.2")  # another address has its own count
    assert all(gate.enter("10.1.2.3") for _ in range(50))  # the load balancer
    gate.leave("198.51.100.1")
    assert gate.enter("198.51.100.1") and not gate.enter("198.51.100.1")
    assert gate.refused == 2
    for _ in range(2):
        gate.leave("198.51.100.1")
    gate.leave("198.51.100.2")
    for _ in range(50):
        gate.leave("10.1.2.3")
    assert len(gate) == 0  # nothing kept for addresses that hold nothing
    assert AddressGate(0).enter("198.51.100.1")  # 0: no cap
    local = AddressGate(1)  # a reverse proxy on this host: never capped
    assert all(local.enter("127.0.0.1") for _ in range(5))
    assert all(local.enter("::1") for _ in range(5))
    assert local.enter("127.0.0.2") and not local.enter("127.0.0.2")


@pytest.mark.anyio
async def test_in_flight_gate_answers_429_past_the_cap() -> None:
    release = asyncio.Event()

    async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = InFlightGateMiddleware(slow, gate=AddressGate(2))
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = [asyncio.create_task(client.get("/")) for _ in range(2)]
        await asyncio.sleep(0.05)
        third = await client.get("/")
        release.set()
        done = await asyncio.gather(*first)
        again = await client.get("/")
    assert third.status_code == 429 and third.json()["error"] == "too_many_requests"
    assert [r.status_code for r in done] == [200, 200] and again.status_code == 200


@pytest.mark.parametrize(
    ("path", "query", "logged"),
    [
        ("/c/AbC123secret", b"", "/c/***"),
        (
            "/postbacks/pixel/demo",
            b"token=s3cr3t&order_id=7",
            "/postbacks/pixel/demo?token=***&order_id=7",
        ),
        (
            "/x",
            b"access_token=a&API_KEY=b&Signature=c&email=d%40e&q=1",
            "/x?access_token=***&API_KEY=***&Signature=***&email=***&q=1",
        ),
        ("/maya", b"utm_source=ig&gclid=abc", "/maya?utm_source=ig&gclid=abc"),
    ],
)
def test_access_log_redaction(path: str, query: bytes, logged: str) -> None:
    assert redact(path, query) == logged
