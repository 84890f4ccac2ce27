"""Shops: postback sources with their secrets."""

from __future__ import annotations

import time
from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import NotFound
from tracker.store.base import StoreBase
from tracker.store.engine import Row

#: Columns the API may show; secrets never leave the store through these.
SHOP_PUBLIC = (
    "id, slug, name, platform, currency, status, created_at, updated_at, secret_rotated_at, "
    "CASE WHEN pixel_token <> '' THEN 1 ELSE 0 END AS pixel, "
    "CASE WHEN previous_secret IS NULL THEN 0 ELSE 1 END AS has_previous_secret"
)
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
        """Plain fields only: secrets change through ``rotate_shop_secret`` and
        ``set_shop_pixel_token`` (``tracker.catalogue.shops`` decides when)."""
        shop = await self.get_shop(ref)
        fields = {
            k: v
            for k, v in fields.items()
            if k not in ("secret", "previous_secret", "pixel_token", "secret_rotated_at")
        }
        if fields:
            await self._update("shops", shop["id"], fields, "shop")
        self._shop_cache.clear()  # the old row must not serve the next postback
        return await self.get_shop(shop["id"])

    async def rotate_shop_secret(self, shop_id: str, secret: str) -> Row:
        """The current secret becomes the previous one (stamped now), in one statement."""
        now = clock.now_iso()
        await self.db.execute(
            "UPDATE shops SET previous_secret = secret, secret = ?, secret_rotated_at = ?, "
            "updated_at = ? WHERE id = ?",
            (secret, now, now, shop_id),
        )
        self._shop_cache.clear()
        return await self.get_shop(shop_id)

    async def set_shop_pixel_token(self, shop_id: str, token: str) -> Row:
        """A new pixel token, or '' (the pixel off)."""
        await self.db.execute(
            "UPDATE shops SET pixel_token = ?, updated_at = ? WHERE id = ?",
            (token, clock.now_iso(), shop_id),
        )
        self._shop_cache.clear()
        return await self.get_shop(shop_id)
