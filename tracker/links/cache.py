"""The link cache: compiled links per slug in process, warmed at start, kept in sync.

A miss reads the store once; a background task picks up links changed on other nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import Any, Final

from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.links.rules import CompiledLink, compile_link
from tracker.settings import Settings

log = logging.getLogger("tracker.links")


class _Miss(enum.Enum):
    """Not in the cache (unlike None: known not to exist). One member, so ``x is MISS``
    narrows the type for mypy and costs one identity check."""

    MISS = 0


MISS: Final = _Miss.MISS


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
        return await self.load(slug) if link is MISS else link

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
