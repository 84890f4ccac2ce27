"""Paginated, searchable lists behind the panel's codes and costs pages (issue 16): one page
of rows and the number matching, filtered in SQL, so a 10,000-row list renders one page."""

from __future__ import annotations

from tracker.store.base import StoreBase, where
from tracker.store.engine import Row


def like(text: str) -> str:
    """A literal LIKE pattern (wildcards in the text escaped), lower-cased, contains."""
    text = text.lower()
    for ch in ("\\", "%", "_"):
        text = text.replace(ch, "\\" + ch)
    return f"%{text}%"


class PanelListQueries(StoreBase):
    async def panel_codes(
        self,
        *,
        q: str = "",
        creator_id: str | None = None,
        campaign_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], int]:
        clause, params = where(
            ("c.creator_id = ?", creator_id),
            ("c.campaign_id = ?", campaign_id),
            ("c.status = ?", status),
            ("(c.code_key LIKE ? ESCAPE '\\' OR cr.handle_key LIKE ? ESCAPE '\\')", q and like(q)),
        )
        if q:
            params.append(like(q.lstrip("@")))
        joins = (
            "FROM codes c JOIN creators cr ON cr.id = c.creator_id "
            "LEFT JOIN campaigns cp ON cp.id = c.campaign_id "
        )
        rows = await self.db.fetch_all(
            "SELECT c.*, cr.handle AS creator_handle, cp.name AS campaign_name "
            f"{joins} WHERE {clause} ORDER BY c.code_key LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n {joins} WHERE {clause}", tuple(params)
        )
        return rows, int(total["n"] if total else 0)

    async def panel_costs(
        self,
        *,
        q: str = "",
        creator_id: str | None = None,
        campaign_id: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], int]:
        """Costs, newest first, with the creator's handle and the campaign's name."""
        clause, params = where(
            ("k.creator_id = ?", creator_id),
            ("k.campaign_id = ?", campaign_id),
            ("k.kind = ?", kind),
            (
                "(cr.handle_key LIKE ? ESCAPE '\\' OR LOWER(k.note) LIKE ? ESCAPE '\\')",
                q and like(q),
            ),
        )
        if q:
            params.append(like(q))
        joins = (
            "FROM costs k JOIN creators cr ON cr.id = k.creator_id "
            "LEFT JOIN campaigns cp ON cp.id = k.campaign_id "
        )
        rows = await self.db.fetch_all(
            "SELECT k.*, cr.handle AS creator_handle, cp.name AS campaign_name "
            f"{joins} WHERE {clause} ORDER BY k.incurred_on DESC, k.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n {joins} WHERE {clause}", tuple(params)
        )
        return rows, int(total["n"] if total else 0)

    async def search_links(
        self,
        *,
        q: str = "",
        creator_id: str | None = None,
        campaign_id: str | None = None,
        state: str = "",
        now: str = "",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Row], int]:
        """Links, newest first: search over slug, destination, title and creator handle;
        state: active (enabled, not expired), expired, disabled."""
        clause, params = where(
            ("l.creator_id = ?", creator_id),
            ("l.campaign_id = ?", campaign_id),
            (
                "(LOWER(l.slug) LIKE ? ESCAPE '\\' OR LOWER(l.destination) LIKE ? ESCAPE '\\' "
                "OR LOWER(l.title) LIKE ? ESCAPE '\\' OR c.handle_key LIKE ? ESCAPE '\\')",
                q and like(q),
            ),
        )
        if q:
            params += [like(q), like(q), like(q.lstrip("@"))]
        if state == "disabled":
            clause += " AND l.status = 'disabled'"
        elif state == "expired":
            clause += (
                " AND l.status <> 'disabled' AND l.expires_at IS NOT NULL AND l.expires_at <= ?"
            )
            params.append(now)
        elif state == "active":
            clause += " AND l.status = 'active' AND (l.expires_at IS NULL OR l.expires_at > ?)"
            params.append(now)
        joins = (
            "FROM links l LEFT JOIN creators c ON c.id = l.creator_id "
            "LEFT JOIN campaigns p ON p.id = l.campaign_id "
        )
        rows = await self.db.fetch_all(
            "SELECT l.*, c.handle AS creator_handle, p.name AS campaign_name "
            f"{joins} WHERE {clause} ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n {joins} WHERE {clause}", tuple(params)
        )
        return rows, int(total["n"] if total else 0)
