"""Creators, campaigns and links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tracker.core import clock, ids
from tracker.core.errors import NotFound, Unprocessable
from tracker.store.base import LIKE_ESCAPE, StoreBase, like_contains, where
from tracker.store.engine import Row


class CatalogueQueries(StoreBase):
    # -- creators ---------------------------------------------------------------------------
    async def create_creator(self, data: dict[str, Any]) -> Row:
        now = clock.now_iso()
        row = {
            "id": ids.new_id("cr"),
            **data,
            "handle_key": data["handle"].lower(),
            "created_at": now,
            "updated_at": now,
        }
        await self._insert("creators", row, f"creator {data['handle']!r}")
        return await self.get_creator(row["id"])

    async def get_creator(self, ref: str) -> Row:
        """By id or by handle (case-insensitive, '@' optional)."""
        row = await self.db.fetch_one(
            "SELECT * FROM creators WHERE id = ? OR handle_key = ?", (ref, ref.lower().lstrip("@"))
        )
        if row is None:
            raise NotFound(f"no such creator {ref!r}")
        return row

    async def list_creators(
        self, *, status: str | None = None, q: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        where, params = ["1 = 1"], []
        if status:
            where.append("status = ?")
            params.append(status)
        if q:
            where.append("handle_key LIKE ?" + LIKE_ESCAPE)
            params.append(like_contains(q.lower().lstrip("@")))
        return await self.db.fetch_all(
            f"SELECT * FROM creators WHERE {' AND '.join(where)} ORDER BY handle_key "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def update_creator(self, ref: str, fields: dict[str, Any]) -> Row:
        creator = await self.get_creator(ref)
        if "handle" in fields:
            fields = {**fields, "handle_key": fields["handle"].lower()}
        return await self._update("creators", creator["id"], fields, "creator")

    # -- campaigns --------------------------------------------------------------------------
    async def create_campaign(self, data: dict[str, Any]) -> Row:
        now = clock.now_iso()
        row = {
            "id": ids.new_id("cp"),
            **data,
            "name_key": data["name"].lower(),
            "created_at": now,
            "updated_at": now,
        }
        await self._insert("campaigns", row, f"campaign {data['name']!r}")
        return await self.get_campaign(row["id"])

    async def get_campaign(self, ref: str) -> Row:
        row = await self.db.fetch_one(
            "SELECT * FROM campaigns WHERE id = ? OR name_key = ?", (ref, ref.lower())
        )
        if row is None:
            raise NotFound(f"no such campaign {ref!r}")
        return row

    async def resolve_creator_campaign(self, data: dict[str, Any]) -> dict[str, Any]:
        """``creator_id`` / ``campaign_id`` given by id, handle or name -> ids (422 if unknown).
        An empty reference is no reference (None): a form's blank choice, or a patch clearing
        it; never stored as '' (it would name no row and fail the foreign key)."""
        out = dict(data)
        for key, getter in (("creator_id", self.get_creator), ("campaign_id", self.get_campaign)):
            if key in out and not out[key]:
                out[key] = None
            elif out.get(key):
                try:
                    out[key] = (await getter(out[key]))["id"]
                except NotFound as exc:
                    raise Unprocessable(f"{key}: {exc.reason}") from None
        return out

    async def list_campaigns(self, *, limit: int = 100, offset: int = 0) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM campaigns ORDER BY name_key LIMIT ? OFFSET ?", (limit, offset)
        )

    async def update_campaign(self, ref: str, fields: dict[str, Any]) -> Row:
        campaign = await self.get_campaign(ref)
        if "name" in fields:
            fields = {**fields, "name_key": fields["name"].lower()}
        return await self._update("campaigns", campaign["id"], fields, "campaign")

    # -- links ------------------------------------------------------------------------------
    async def create_link(self, data: dict[str, Any]) -> Row:
        now = clock.now_iso()
        data = await self.resolve_creator_campaign(data)
        row = {"id": ids.new_id("ln"), **data, "created_at": now, "updated_at": now}
        await self._insert("links", row, f"slug {data['slug']!r}")
        return await self.get_link(row["id"])

    async def create_links(self, rows: list[dict[str, Any]]) -> list[Row]:
        """Links whose references are already ids, all or nothing (``links.bulk_create``)."""
        now = clock.now_iso()
        made = await self._insert_all(
            "links", "ln", [{**r, "updated_at": now} for r in rows], "a link with that slug"
        )
        return [await self.get_link(link_id) for link_id in made]

    async def get_link(self, ref: str) -> Row:
        row = await self.db.fetch_one("SELECT * FROM links WHERE id = ? OR slug = ?", (ref, ref))
        if row is None:
            raise NotFound(f"no such link {ref!r}")
        return row

    async def link_by_slug(self, slug: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM links WHERE slug = ?", (slug,))

    def stream_active_links(self, limit: int) -> AsyncIterator[Row]:
        """Newest active links first: what the redirect's cache loads at start-up."""
        return self.db.stream(
            "SELECT * FROM links WHERE status = 'active' ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )

    def stream_links_changed_since(self, since_iso: str) -> AsyncIterator[Row]:
        """Links created or updated at or after ``since_iso`` (the cache's periodic sync)."""
        return self.db.stream("SELECT * FROM links WHERE updated_at >= ?", (since_iso,))

    async def list_links(
        self,
        *,
        creator_id: str | None = None,
        campaign_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        clause, params = where(
            ("creator_id = ?", creator_id), ("campaign_id = ?", campaign_id), ("status = ?", status)
        )
        return await self.db.fetch_all(
            f"SELECT * FROM links WHERE {clause} ORDER BY created_at, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    async def update_link(self, ref: str, fields: dict[str, Any]) -> Row:
        link = await self.get_link(ref)
        fields = await self.resolve_creator_campaign(fields)
        return await self._update("links", link["id"], fields, "link")
