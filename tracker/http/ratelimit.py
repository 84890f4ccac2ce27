"""Per-client rate limits: a token bucket per key, and the two ways to apply it.

``RateLimiter`` is the bucket store (one per protected surface: the API, postbacks, the
admin login). Apply it either around a whole path prefix with ``RateLimitMiddleware`` (a
plain ASGI class, no Starlette machinery) or inside one handler with ``limiter.check(key)``,
which raises ``TooManyRequests`` (429 + ``Retry-After``) like every other deliberate error::

    login_limiter = RateLimiter(rate=0.2, burst=5)           # 5 tries, then one per 5 s
    login_limiter.check(state.capture.client_ip(scope, headers))

The bucket map is bounded (``max_keys``): when full, the least recently refilled entries
go first, so a flood of spoofed-looking peers cannot grow memory without limit. Limits
are per process: with N nodes behind a balancer a client gets up to N times the rate.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.core.errors import TooManyRequests


class RateLimiter:
    """Token bucket per key: ``burst`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self.refused = 0

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens; return 0.0 if allowed, else the seconds until it would be."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= cost:
            tokens -= cost
            wait = 0.0
        else:
            wait = (cost - tokens) / self.rate
            self.refused += 1
        self._buckets[key] = (tokens, now)  # re-inserted: dict order = least recently used first
        if len(self._buckets) > self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        return wait

    def exhausted(self, key: str) -> float:
        """Seconds until ``key`` has a whole token again (0.0 if it has one now); spends none."""
        tokens, at = self._buckets.get(key, (self.burst, self._clock()))
        tokens = min(self.burst, tokens + (self._clock() - at) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def check(self, key: str, cost: float = 1.0) -> None:
        """Raise ``TooManyRequests`` with a whole-second ``retry_after`` when over the limit."""
        wait = self.take(key, cost)
        if wait:
            raise TooManyRequests(
                "rate limit exceeded, slow down", retry_after=max(1, math.ceil(wait))
            )

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    """Answer 429 (JSON, ``Retry-After``) for HTTP requests under ``prefix`` over the limit.

    ``client_ip(scope, headers)`` names the client; pass ``ClickCapture.client_ip`` so the
    same trusted-proxy rules decide who a client is on every surface.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter | None,
        prefix: str,
        client_ip: Callable[[Mapping[str, Any], dict[bytes, bytes]], str],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix
        self.client_ip = client_ip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limiter is None
            or scope["type"] != "http"
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(self.client_ip(scope, dict(scope["headers"])))
        if not wait:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "too_many_requests", "detail": "rate limit exceeded, slow down"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
