"""The hot path: ``GET``/``HEAD /{slug}`` as a plain ASGI middleware in front of the app.

Single-segment paths that are not reserved never reach Starlette's router: the link comes
from an in-process cache (a miss reads the store once), the click row is built without I/O
and queued for the batch writer, and the 302 goes out. Everything else passes through.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.clicks.capture import (
    CLIENT_NET,
    COUNTRY,
    MAX_LANG,
    MAX_UA,
    VARIANT,
    ClickCapture,
)
from tracker.clicks.orphans import OrphanCounter
from tracker.clicks.writer import ClickWriter
from tracker.core import ids
from tracker.http.ratelimit import RateLimiter
from tracker.links.cache import MISS, LinkCache
from tracker.links.rules import RESERVED_SLUGS, SLUG_RE, CompiledLink
from tracker.links.targeting import (
    Visitor,
    first_language,
    parse_query,
    quick_agent,
)
from tracker.settings import Settings

log = logging.getLogger("tracker.links")

_NO_STORE = (b"cache-control", b"private, no-store")
#: Longest delay of a redirect over the per-client limit on unseen user agents.
MAX_UNSEEN_WAIT = 1.0


def _page(status: int, title: str, message: str) -> bytes:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><body style='font:16px system-ui;margin:15vh auto;"
        f"max-width:32em;padding:0 1em;color:#222'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    ).encode()


NOT_FOUND = _page(404, "Link not found", "This link does not exist. Check it for typos.")
GONE = _page(410, "Link no longer active", "This link has been disabled or has expired.")


class RedirectMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: LinkCache,
        capture: ClickCapture,
        writer: ClickWriter,
        orphans: OrphanCounter,
        settings: Settings,
    ) -> None:
        self.app = app
        self.orphans = orphans
        self.cache = cache
        self.capture = capture
        self.writer = writer
        self.param = settings.click_id_param
        #: Unseen user agents per client network: what one client can make the writer
        #: describe. Over it the 302 waits (the click is queued first); nobody is refused.
        self.unseen = (
            RateLimiter(settings.unseen_agents_per_sec, settings.unseen_agents_burst)
            if settings.unseen_agents_per_sec
            else None
        )

    async def _queue(self, row: tuple[object, ...]) -> None:
        """Hand the click to the writer (waiting for room under backpressure); then, for a
        user agent the writer must describe, apply the client's limit on those."""
        if not self.writer.add(row):
            await self.writer.add_waiting(row)
        key = row[CLIENT_NET]
        if key is not None and self.unseen is not None:
            wait = self.unseen.delay(str(key), MAX_UNSEEN_WAIT)
            if wait:
                await asyncio.sleep(wait)

    def _routed(
        self, link: CompiledLink, scope: Scope, row: tuple[object, ...], click_id: str
    ) -> tuple[str, tuple[object, ...]]:
        """The Location of a link with targeting or code application, and the row with the
        chosen rule or variant (``tracker.links.targeting``)."""
        query = scope.get("query_string", b"")
        target = link
        routing = link.routing
        if routing is not None:
            headers = dict(scope["headers"])
            device = os_ = "other"
            if routing.needs_agent:
                device, os_ = quick_agent(headers.get(b"user-agent", b"").decode("latin-1"))
            lang = headers.get(b"accept-language", b"")[:MAX_LANG].decode("latin-1")
            visitor = Visitor(
                device,
                os_,
                row[COUNTRY],  # type: ignore[arg-type]
                first_language(lang),
                parse_query(query) if routing.needs_query else {},
            )
            chosen = routing.choose(visitor, str(row[5]))
            if chosen is not None:
                name, target = chosen
                row = (*row[:VARIANT], name, *row[VARIANT + 1 :])
        location = target.location(self.param, click_id, query)
        if link.apply is not None:
            location = link.apply.wrap(location)
        return location, row

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        slug = scope["path"][1:]
        if not slug or "/" in slug or slug.lower() in RESERVED_SLUGS:
            await self.app(scope, receive, send)
            return
        now = time.time()
        link = self.cache.lookup(slug)
        if link is MISS:
            link = await self.cache.load(slug) if SLUG_RE.match(slug) else None
        if link is None:  # an orphan visit: counted per slug and hour, no row of its own
            ua = dict(scope["headers"]).get(b"user-agent", b"").decode("latin-1")[:MAX_UA]
            is_bot = scope["method"] == "HEAD" or self.capture.agents.describe(ua)[3] is not None
            self.orphans.add(slug, now, is_bot)
            row = None
            status, body = 404, NOT_FOUND
        elif not link.usable(now):
            row = None
            status, body = 410, GONE
        else:
            click_id = ids.click_id()
            row = self.capture.row(scope, slug, link.id, link.creator_id, click_id, now)
            if link.routing is None and link.apply is None:
                location = link.location(self.param, click_id, scope.get("query_string", b""))
            else:
                location, row = self._routed(link, scope, row, click_id)
            await self._queue(row)
            await send(
                {
                    "type": "http.response.start",
                    "status": 302,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        _NO_STORE,
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if row is not None:
            await self._queue(row)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    _NO_STORE,
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
