"""A real receiving HTTP server for webhook tests, and a small world of creators, codes and a
generic shop that sends signed orders."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import Running, free_port
from tests.postback_helpers import dumps, generic_headers
from tracker.settings import Settings

SLOW = -1  # a hit answered only after a sleep ("sleep:SECONDS")


@dataclass
class Hit:
    at: float
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each request from ``script`` (status codes, or "sleep:SECONDS" then 200),
    then with ``default``; records every request it got."""

    script: list[int | str] = field(default_factory=list)
    default: int | str = 200
    hits: list[Hit] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        answer = self.script.pop(0) if self.script else self.default
        status = answer if isinstance(answer, int) else SLOW
        self.hits.append(Hit(time.monotonic(), dict(request.headers), body, status))
        if status == SLOW:  # recorded on arrival: the sender may give up before the answer
            await asyncio.sleep(float(str(answer).split(":")[1]))
            status = 200
        return Response("ok" if status < 300 else "nope", status_code=status)

    def ok(self) -> list[Hit]:
        return [h for h in self.hits if 200 <= h.status < 300]

    async def wait(self, cond: Callable[[Receiver], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; hits: {[(h.id, h.status) for h in self.hits]}")
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> Receiver:
        self.port = self.port or free_port()
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        await self._task


def verify(secret: str, hit: Hit) -> dict[str, Any]:
    """The receiver's side: standardwebhooks verifies the signature and parses the body."""
    payload: dict[str, Any] = Webhook(secret).verify(hit.body, hit.headers)
    return payload


def fast(settings: Settings, **changes: Any) -> Settings:
    """Short retries and polls for tests; private addresses allowed (the receiver is local)."""
    base: dict[str, Any] = {
        "webhook_allow_private": True,
        "webhook_poll_ms": 20,
        "webhook_retry_base_seconds": 0.05,
        "webhook_retry_max_seconds": 0.4,
        "webhook_timeout_seconds": 1.0,
        "commission_approve_interval_minutes": 0,
        "retention_interval_minutes": 0,
    }
    return dataclasses.replace(settings, **{**base, **changes})


@dataclass
class Shop:
    """Creators maya (code MAYA10) and bob (code BOB10), and the generic shop ``gen``."""

    live: Running
    auth: dict[str, str]
    secret: str
    creators: dict[str, str]
    sent: int = 0

    @classmethod
    async def make(cls, live: Running) -> Shop:
        auth = await live.token()
        c = live.client
        creators = {}
        for handle, code in (("maya", "MAYA10"), ("bob", "BOB10")):
            r = await c.post("/api/v1/creators", headers=auth, json={"handle": handle})
            creators[handle] = r.json()["id"]
            r = await c.post(
                "/api/v1/codes", headers=auth, json={"code": code, "creator_id": handle}
            )
            assert r.status_code == 201, r.text
        r = await c.post(
            "/api/v1/shops",
            headers=auth,
            json={"slug": "gen", "platform": "generic", "currency": "EUR"},
        )
        assert r.status_code == 201, r.text
        return cls(live, auth, r.json()["secret"], creators)

    async def order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "order_id": order_id,
            "created_at": "2026-11-20T10:00:00Z",
            "currency": "EUR",
            "total_minor": 4999,
            "discount_codes": ["MAYA10"],
            "status": "paid",
        }
        data.update(fields)
        body = dumps(data)
        self.sent += 1
        r = await self.live.client.post(
            "/postbacks/generic/gen",
            content=body,
            headers=generic_headers(body, self.secret, f"msg_{order_id}_{self.sent}"),
        )
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    async def endpoint(self, url: str, **fields: Any) -> dict[str, Any]:
        r = await self.live.client.post(
            "/api/v1/webhooks", headers=self.auth, json={"url": url, **fields}
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last: {got!r}")
        await asyncio.sleep(0.02)
