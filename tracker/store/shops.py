"""Shops: postback sources with their secrets."""

from __future__ import annotations

import time
from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase
from tracker.store.engine import Row

#: Columns the API may show; secrets never leave the store through these.
SHOP_PUBLIC = "id, slug, name, platform, currency, status, created_at, updated_at"
#: Seconds postbacks reuse a shop's secrets before reading them again: a webhook burst
#: reads its shop once a second, not once per order. Changes made through this store are
#: seen at once; made on another node or by the CLI, within this many seconds.
SHOP_CACHE_TTL = 1.0


class ShopQueries(StoreBase):
    _shop_cache: dict[str, tuple[float, Row | None]]

    async def create_shop(self, data: dict[str, Any]) -> Row:
        now = clock.now_iso()
        row = {"id": ids.new_id("sh"), **data, "created_at": now, "updated_at": now}
        await self._insert("shops", row, f"shop {data['slug']!r}")
        self._shop_cache.clear()  # a postback may have cached the slug as unknown
        return await self.get_shop(row["id"])

    async def get_shop(self, ref: str) -> Row:
        row = await self.db.fetch_one(
            f"SELECT {SHOP_PUBLIC} FROM shops WHERE id = ? OR slug = ?", (ref, ref)
        )
        if row is None:
            raise NotFound(f"no such shop {ref!r}")
        return row

    async def shop_secrets(self, slug: str) -> Row | None:
        """The active shop with its secrets, for signature checks only (cached briefly)."""
        now = time.monotonic()
        hit = self._shop_cache.get(slug)
        if hit is not None and now - hit[0] < SHOP_CACHE_TTL:
            return dict(hit[1]) if hit[1] is not None else None
        row = await self.db.fetch_one(
            f"SELECT {SHOP_PUBLIC}, secret, previous_secret, pixel_token FROM shops "
            "WHERE slug = ? AND status = 'active'",
            (slug,),
        )
        if len(self._shop_cache) >= 1024:  # unknown slugs must not grow it without bound
            self._shop_cache.clear()
        self._shop_cache[slug] = (now, row)
        return dict(row) if row is not None else None

    async def list_shops(self, *, limit: int = 100, offset: int = 0) -> list[Row]:
        return await self.db.fetch_all(
            f"SELECT {SHOP_PUBLIC} FROM shops ORDER BY slug LIMIT ? OFFSET ?", (limit, offset)
        )

    async def update_shop(self, ref: str, fields: dict[str, Any]) -> Row:
        shop = await self.get_shop(ref)
        if "secret" in fields:  # rotation: the old secret keeps working until the next rotation
            current = await self.db.fetch_one(
                "SELECT secret FROM shops WHERE id = ?", (shop["id"],)
            )
            fields = {**fields, "previous_secret": current["secret"] if current else None}
        await self._update("shops", shop["id"], fields, "shop")
        self._shop_cache.clear()  # the old row must not serve the next postback
        return await self.get_shop(shop["id"])
