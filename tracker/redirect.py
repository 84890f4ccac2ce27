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
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker import ids
from tracker.clicks import ClickCapture, ClickWriter
from tracker.errors import Unprocessable
from tracker.links import RESERVED_SLUGS, SLUG_RE, CompiledLink, compile_link
from tracker.settings import Settings

log = logging.getLogger("tracker.redirect")

_NO_STORE = (b"cache-control", b"private, no-store")


class LinkCache:
    """slug -> CompiledLink (or None for unknown slugs), bounded, with a freshness TTL.

    Local changes invalidate at once; changes made elsewhere (another node, the CLI) are
    picked up when an entry older than the TTL is next used: it is served once more while
    a background refresh reads the store, so the hot path never waits on a refresh.
    """

    def __init__(self, store: Any, settings: Settings) -> None:
        self._store = store
        self._ttl = settings.link_cache_ttl
        self._max = settings.link_cache_size
        self._param = settings.click_id_param
        self._allowed = settings.allowed_hosts
        self._entries: dict[str, tuple[CompiledLink | None, float]] = {}
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, slug: str) -> CompiledLink | None:
        entry = self._entries.get(slug)
        if entry is not None:
            link, fetched = entry
            if time.monotonic() - fetched > self._ttl and slug not in self._refreshing:
                self._refreshing.add(slug)
                task = asyncio.create_task(self._refresh(slug))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return link
        return await self._load(slug)

    async def _refresh(self, slug: str) -> None:
        try:
            await self._load(slug)
        except Exception:
            log.exception("refreshing link %s failed", slug)
        finally:
            self._refreshing.discard(slug)

    async def _load(self, slug: str) -> CompiledLink | None:
        row = await self._store.link_by_slug(slug)
        link: CompiledLink | None = None
        if row is not None:
            try:
                link = compile_link(row, self._param, self._allowed)
            except Unprocessable as exc:
                log.error("link %s has a destination we refuse (%s); serving 410", slug, exc)
                link = CompiledLink(
                    row["id"], slug, row.get("creator_id"), False, None, "", False, "", frozenset()
                )
        if self._max:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[slug] = (link, time.monotonic())
        return link

    def invalidate(self, *slugs: str) -> None:
        for slug in slugs:
            self._entries.pop(slug, None)

    async def warm(self, limit: int) -> int:
        """Fill the cache with up to ``limit`` active links (used at start-up)."""
        n = 0
        async for row in self._store.db.stream(
            "SELECT * FROM links WHERE status = 'active' ORDER BY created_at DESC LIMIT ?",
            (limit,),
        ):
            try:
                link = compile_link(row, self._param, self._allowed)
            except Unprocessable:
                continue
            self._entries[row["slug"]] = (link, time.monotonic())
            n += 1
        return n

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


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
        settings: Settings,
    ) -> None:
        self.app = app
        self.cache = cache
        self.capture = capture
        self.writer = writer
        self.param = settings.click_id_param

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        slug = scope["path"][1:]
        if not slug or "/" in slug or slug.lower() in RESERVED_SLUGS:
            await self.app(scope, receive, send)
            return
        now = time.time()
        link = await self.cache.get(slug) if SLUG_RE.match(slug) else None
        click_id = ids.click_id()
        if link is None:
            row = self.capture.row(scope, slug, None, None, click_id, now)  # orphan visit
            status, body = 404, NOT_FOUND
        elif not link.usable(now):
            row = None
            status, body = 410, GONE
        else:
            row = self.capture.row(scope, slug, link.id, link.creator_id, click_id, now)
            location = link.location(self.param, click_id, scope.get("query_string", b""))
            if not self.writer.add(row):
                await self.writer.add_waiting(row)
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
        if row is not None and not self.writer.add(row):
            await self.writer.add_waiting(row)
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
