"""Limits: body caps (413), per-IP API rate limits (429 + Retry-After), head and URL caps
(431 / 414, in-app and in the server on uvicorn and granian), and cheap 404s for unknown slugs."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Running, Server, make_settings, running
from tracker.core.errors import TooManyRequests
from tracker.http.limits import MAX_HEAD_BYTES, MAX_HEADER_BYTES, MAX_URL_BYTES
from tracker.http.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# -- the token bucket ------------------------------------------------------------------------
def test_bucket_allows_burst_then_rate() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate=2, burst=3, clock=clock)
    assert [rl.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.take("a") == pytest.approx(0.5)  # one token every 0.5 s
    assert rl.take("b") == 0.0  # buckets are per key
    clock.t += 0.5
    assert rl.take("a") == 0.0
    assert rl.take("a") > 0
    clock.t += 100
    assert [rl.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refills to burst, no more
    assert rl.take("a") > 0


def test_check_raises_429_with_whole_seconds() -> None:
    rl = RateLimiter(rate=0.1, burst=1, clock=FakeClock())
    rl.check("ip")
    with pytest.raises(TooManyRequests) as exc:
        rl.check("ip")
    assert isinstance(exc.value, TooManyRequests) and exc.value.retry_after == 10


def test_bucket_map_is_bounded() -> None:
    rl = RateLimiter(rate=1, burst=1, max_keys=100, clock=FakeClock())
    for i in range(10_000):
        rl.take(f"10.0.{i // 256}.{i % 256}")
    assert 100 - 100 // 8 <= len(rl) <= 100  # the oldest eighth goes at once when full
    assert rl.exhausted("10.0.39.15") > 0  # the most recent client is remembered


# -- through the app -------------------------------------------------------------------------
@pytest.fixture
async def limited(tmp_path: Path, database_url: str) -> AsyncIterator[Running]:
    settings = make_settings(
        tmp_path,
        database_url,
        TRACKER_API_RATE_PER_SEC="1",
        TRACKER_API_RATE_BURST="5",
        TRACKER_MAX_BODY_BYTES="2048",
        TRACKER_TRUSTED_PROXIES="203.0.113.0/24",
    )
    async with running(settings) as r:
        yield r


@pytest.mark.anyio
async def test_api_rate_limit_per_ip(limited: Running, figures: Callable[[str, Any], None]) -> None:
    auth = await limited.token()
    codes = [
        (await limited.client.get("/api/v1/creators", headers=auth)).status_code for _ in range(8)
    ]
    assert codes[:5] == [200] * 5 and 429 in codes, codes  # 1/s refill: timing-tolerant
    r = await limited.client.get("/api/v1/creators", headers=auth)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["error"] == "too_many_requests"
    # Another client (behind the trusted proxy) has its own bucket.
    other = await limited.client.get(
        "/api/v1/creators", headers={**auth, "X-Forwarded-For": "198.51.100.9"}
    )
    assert other.status_code == 200
    # Redirects are never rate limited by the API limiter.
    assert {(await limited.client.get("/nosuch")).status_code for _ in range(20)} == {404}
    figures("API requests allowed before 429 (burst 5)", codes.index(429))


@pytest.mark.anyio
async def test_body_cap_declared_and_chunked(limited: Running) -> None:
    auth = await limited.token()
    big = b'{"handle": "' + b"a" * 5000 + b'"}'
    r = await limited.client.post("/api/v1/creators", headers=auth, content=big)
    assert r.status_code == 413, r.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"handle": "alice", "name": "'
        for _ in range(10):
            yield b"b" * 500
        yield b'"}'

    r = await limited.client.post("/api/v1/creators", headers=auth, content=chunks())
    assert r.status_code == 413, r.text
    assert await limited.store.list_creators() == []  # nothing half-written
    ok = await limited.client.post("/api/v1/creators", headers=auth, json={"handle": "alice"})
    assert ok.status_code == 201


@pytest.mark.anyio
async def test_header_and_url_caps_in_app(limited: Running) -> None:
    r = await limited.client.get("/nosuch", headers={"x-big": "a" * (MAX_HEADER_BYTES + 1)})
    assert r.status_code == 431
    r = await limited.client.get("/nosuch", headers={f"x-h{i}": "1" for i in range(120)})
    assert r.status_code == 431
    r = await limited.client.get("/nosuch?q=" + "a" * MAX_URL_BYTES)
    assert r.status_code == 414
    assert (await limited.client.get("/nosuch?q=" + "a" * 2000)).status_code == 404


def _raw(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(head)
            return sock.recv(200)
        except (ConnectionResetError, BrokenPipeError):
            return b"reset"


@pytest.mark.slow
def test_server_caps_request_heads(any_server: Server, figures: Callable[[str, Any], None]) -> None:
    """httptools alone would buffer a head of any size; ours stops at MAX_HEAD_BYTES, and so
    does granian (its buffer size). Too many header lines: 431 on both."""
    server = any_server
    port = server.port
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    r = _raw(port, b"GET /nosuch HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert r[:12] in (b"HTTP/1.1 431", b"reset"), r
    ok = _raw(port, b"GET /nosuch HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 4000 + b"\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 404")
    # A head just over the parser cap, in one header: refused before the app sees it.
    big = b"GET /nosuch HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * (MAX_HEAD_BYTES + 10)
    assert _raw(port, big + b"\r\n\r\n")[:12] in (b"HTTP/1.1 431", b"reset")
    # A 3 MB head never completes: the connection is closed early instead of buffering it.
    huge = b"GET /nosuch HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 3_000_000 + b"\r\n\r\n"
    assert _raw(port, huge)[:12] in (b"HTTP/1.1 431", b"reset")
    # A large body is not a large head: a 30 KB POST still reaches the app (and its 401).
    body = b"x" * 30_000
    r = _raw(
        port,
        b"POST /api/v1/creators HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
    )
    assert r.startswith(b"HTTP/1.1 401"), r
    assert httpx.get(server.url + "/healthz").status_code == 200
    figures("request head cap (bytes)", MAX_HEAD_BYTES)


@pytest.mark.anyio
async def test_unknown_slugs_are_negative_cached(live: Running) -> None:
    """A repeated unknown slug is answered from memory: a link created behind the cache's
    back (as another node would) is not seen until the entry is refreshed."""
    assert (await live.client.get("/ghost")).status_code == 404
    await live.store.create_link({"slug": "ghost", "destination": "https://shop.example.com/"})
    assert (await live.client.get("/ghost")).status_code == 404  # served from the cache
    live.state.cache.invalidate("ghost")
    assert (await live.client.get("/ghost")).status_code == 302
    # Malformed slugs never reach the store or the cache.
    before = len(live.state.cache._entries)
    assert (await live.client.get("/" + "x" * 200)).status_code == 404
    assert (await live.client.get("/bad%20slug")).status_code == 404
    assert len(live.state.cache._entries) == before


@pytest.mark.anyio
async def test_text_no_engine_can_store_is_a_4xx(live: Running) -> None:
    """Found by the fuzzer on PostgreSQL: NUL in a name or a query, or an explicit null for
    a NOT NULL column in a PATCH, were 500s. Now refused at the edge, nothing written."""
    auth = await live.token()
    c = live.client
    assert (
        await c.post("/api/v1/campaigns", headers=auth, json={"name": "spring\u0000"})
    ).status_code == 422
    assert (  # a lone surrogate is not UTF-8: malformed JSON (orjson, issue 15)
        await c.post(
            "/api/v1/creators", headers=auth, content=b'{"handle": "ok", "name": "\\ud800"}'
        )
    ).status_code == 400
    assert (await c.get("/api/v1/clicks?link=a%00b", headers=auth)).status_code == 400
    assert (await c.get("/api/v1/links/a%00b", headers=auth)).status_code == 400
    assert (await c.get("/slug%00")).status_code == 400  # never an orphan click row
    assert (
        await c.post("/api/v1/creators", headers=auth, json={"handle": "zoe"})
    ).status_code == 201
    for body in ({"handle": None}, {"followers": None}, {"name": None, "status": None}):
        r = await c.patch("/api/v1/creators/zoe", headers=auth, json=body)
        assert r.status_code == 422, (body, r.text)
    assert (
        await c.patch("/api/v1/creators/zoe", headers=auth, json={"name": "Zoë"})
    ).status_code == 200
    assert [x["handle"] for x in await live.store.list_creators()] == ["zoe"]
    assert await live.store.list_campaigns() == []
