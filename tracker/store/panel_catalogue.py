"""Paginated, searchable lists behind the panel's campaigns, shops and API tokens pages
(issue 16): one page of rows and the number matching, filtered in SQL, like
``panel_lists.py``. Tokens never leave with their hash."""

from __future__ import annotations

from tracker.store.base import StoreBase, where
from tracker.store.engine import Row
from tracker.store.panel_lists import like
from tracker.store.shops import SHOP_PUBLIC

#: campaign states (``tracker.catalogue.campaigns.state``) as SQL over ``today``
_CAMPAIGN_STATES = {
    "disabled": ("status <> 'active'", 0),
    "scheduled": ("status = 'active' AND starts_on IS NOT NULL AND starts_on > ?", 1),
    "ended": (
        "status = 'active' AND (starts_on IS NULL OR starts_on <= ?) AND ends_on IS NOT NULL "
        "AND ends_on < ?",
        2,
    ),
    "active": (
        "status = 'active' AND (starts_on IS NULL OR starts_on <= ?) "
        "AND (ends_on IS NULL OR ends_on >= ?)",
        2,
    ),
}
CAMPAIGN_STATES = tuple(_CAMPAIGN_STATES)


class PanelCatalogueQueries(StoreBase):
    async def _page(
        self, select: str, rest: str, order: str, params: list[object], limit: int, offset: int
    ) -> tuple[list[Row], int]:
        rows = await self.db.fetch_all(
            f"SELECT {select} {rest} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(f"SELECT COUNT(*) AS n {rest}", tuple(params))
        return rows, int(total["n"] if total else 0)

    async def panel_campaigns(
        self, *, q: str = "", state: str = "", today: str = "", limit: int = 50, offset: int = 0
    ) -> tuple[list[Row], int]:
        """Campaigns by name; ``state``: active, scheduled, ended or disabled on ``today``."""
        clause, params = where(("name_key LIKE ? ESCAPE '\\'", q and like(q)))
        if state in _CAMPAIGN_STATES:
            sql, n = _CAMPAIGN_STATES[state]
            clause += f" AND {sql}"
            params += [today] * n
        return await self._page(
            "*", f"FROM campaigns WHERE {clause}", "name_key, id", params, limit, offset
        )

    async def panel_shops(
        self,
        *,
        q: str = "",
        platform: str = "",
        status: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], int]:
        """Shops by slug or name, platform and status; secrets never selected."""
        clause, params = where(
            ("platform = ?", platform or None),
            ("status = ?", status or None),
            ("(LOWER(slug) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')", q and like(q)),
        )
        if q:
            params.append(like(q))
        return await self._page(
            SHOP_PUBLIC, f"FROM shops WHERE {clause}", "slug, id", params, limit, offset
        )

    async def panel_tokens(
        self, *, q: str = "", status: str = "", limit: int = 50, offset: int = 0
    ) -> tuple[list[Row], int]:
        """API tokens by name, newest first; ``status``: active or revoked (never the hash)."""
        clause, params = where(("LOWER(name) LIKE ? ESCAPE '\\'", q and like(q)))
        if status == "active":
            clause += " AND revoked_at IS NULL"
        elif status == "revoked":
            clause += " AND revoked_at IS NOT NULL"
        return await self._page(
            "id, name, created_at, last_used_at, revoked_at",
            f"FROM api_tokens WHERE {clause}",
            "created_at DESC, id",
            params,
            limit,
            offset,
        )
