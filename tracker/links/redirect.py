"""The hot path: ``GET``/``HEAD /{slug}`` as a plain ASGI middleware in front of the app.

Single-segment paths that are not reserved never reach Starlette's router: the link comes
from an in-process cache (a miss reads the store once), the click row is built without I/O
and queued for the batch writer, and the 302 goes out. Everything else passes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.clicks.capture import ClickCapture, ClickWriter
from tracker.core import clock, ids
from tracker.core.errors import Unprocessable
from tracker.links.rules import RESERVED_SLUGS, SLUG_RE, CompiledLink, compile_link
from tracker.settings import Settings

log = logging.getLogger("tracker.links.redirect")

_NO_STORE = (b"cache-control", b"private, no-store")


class LinkCache:
    """slug -> CompiledLink (or None for unknown slugs), bounded, kept fresh by one sync task.

    Local changes invalidate at once. Changes made elsewhere (another node, the CLI) arrive
    through ``sync``: every ``TRACKER_LINK_CACHE_TTL`` seconds one query reads the links
    changed recently and recompiles them, so an entry is never more than about TTL seconds
    stale and the hot path never starts a refresh (a per-entry refresh on use cost one task
    and one store read per click once 100,000 links had all passed their TTL). A miss reads
    the store once; with TTL 0 nothing is trusted and every lookup reads the store.
    """

    #: Rows changed this long before the previous sync are read again: covers transactions
    #: that commit a little after their ``updated_at`` and modest clock skew between nodes.
    OVERLAP = 60.0

    def __init__(self, store: Any, settings: Settings) -> None:
        self._store = store
        self._ttl = settings.link_cache_ttl
        self._max = settings.link_cache_size
        self._param = settings.click_id_param
        self._allowed = settings.allowed_hosts
        self._entries: dict[str, CompiledLink | None] = {}
        self._slug_of: dict[str, str] = {}  # link id -> slug cached for it (renames)
        self._synced_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def lookup(self, slug: str) -> CompiledLink | _Miss | None:
        """The cached entry, or ``MISS`` (then ``await load(slug)``). No I/O, no await."""
        if self._ttl == 0:
            return MISS
        return self._entries.get(slug, MISS)

    async def get(self, slug: str) -> CompiledLink | None:
        link = self.lookup(slug)
        return await self.load(slug) if link is MISS else link  # type: ignore[return-value]

    async def load(self, slug: str) -> CompiledLink | None:
        row = await self._store.link_by_slug(slug)
        link = self._compile(row) if row is not None else None
        self._put(slug, link)
        return link

    def _compile(self, row: dict[str, Any]) -> CompiledLink:
        try:
            return compile_link(row, self._param, self._allowed)
        except Unprocessable as exc:
            log.error("link %s has a destination we refuse (%s); serving 410", row["slug"], exc)
            return CompiledLink(
                row["id"],
                row["slug"],
                row.get("creator_id"),
                False,
                None,
                "",
                False,
                "",
                frozenset(),
            )

    def _put(self, slug: str, link: CompiledLink | None) -> None:
        if not self._max or self._ttl == 0:
            return
        if link is not None:
            old = self._slug_of.get(link.id)
            if old is not None and old != slug:  # renamed: the old slug is free now
                self._entries.pop(old, None)
            self._slug_of[link.id] = slug
        if slug not in self._entries and len(self._entries) >= self._max:
            evicted = self._entries.pop(next(iter(self._entries)))
            if evicted is not None:
                self._slug_of.pop(evicted.id, None)
        self._entries[slug] = link

    def invalidate(self, *slugs: str) -> None:
        for slug in slugs:
            link = self._entries.pop(slug, None)
            if link is not None:
                self._slug_of.pop(link.id, None)

    async def warm(self, limit: int) -> int:
        """Fill the cache with up to ``limit`` active links and start the sync task."""
        self._synced_at = time.time()
        n = 0
        if self._max and self._ttl:
            async for row in self._store.stream_active_links(limit):
                self._put(row["slug"], self._compile(row))
                n += 1
            self._task = asyncio.create_task(self._sync_loop(), name="link-cache-sync")
        return n

    async def sync(self) -> int:
        """Recompile every cached or newly created link changed since the last sync."""
        started = time.time()
        since = clock.iso(self._synced_at - self.OVERLAP)
        n = 0
        async for row in self._store.stream_links_changed_since(since):
            slug = row["slug"]
            old = self._slug_of.get(row["id"])
            if slug in self._entries or old is not None or len(self._entries) < self._max:
                self._put(slug, self._compile(row))
                n += 1
        self._synced_at = started
        return n

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self._ttl)
            try:
                await self.sync()
            except Exception:
                log.exception("link cache sync failed; will retry")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _Miss:
    __slots__ = ()


MISS = _Miss()


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
        link = self.cache.lookup(slug)
        if link is MISS:
            link = await self.cache.load(slug) if SLUG_RE.match(slug) else None
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
