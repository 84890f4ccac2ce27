"""Retention: erase personal data (click fingerprints, raw IPs, raw postback bodies) past its
period, in batches.

Batches keep each write transaction short, so on SQLite the click writer is never held up
for long by a purge of a large, old table.
"""

from __future__ import annotations

from tracker.store.base import StoreBase
from tracker.store.engine import Row


class RetentionQueries(StoreBase):
    async def purge_click_fingerprints(self, before_iso: str, *, batch: int = 5000) -> int:
        """Null ``fingerprint``, ``ip`` and their tags of clicks older than ``before_iso``; return how many."""
        total = 0
        while True:
            n = await self.db.execute(
                "UPDATE clicks SET fingerprint = NULL, ip = NULL, ip_tag = NULL, lang_tag = NULL "
                "WHERE id IN ("
                "SELECT id FROM clicks WHERE at < ? "
                "AND (fingerprint IS NOT NULL OR ip IS NOT NULL) LIMIT ?)",
                (before_iso, batch),
            )
            total += n
            if n < batch:
                break
        # The day roll-ups' visitor sets hold fingerprints too: their whole days go.
        await self.db.execute("DELETE FROM click_visitors WHERE day < ?", (before_iso[:10],))
        return total

    async def purge_clicks(self, before_iso: str, *, batch: int = 5000) -> int:
        """Delete raw clicks from before the UTC day of ``before_iso`` (whole days, so a day
        is never half in the roll-ups' recount); the day roll-ups keep their history.
        PostgreSQL drops the month tables wholly before it first, then deletes the rest."""
        day = before_iso[:10]
        drop = getattr(self.db, "drop_click_months_before", None)
        total = int(await drop(day)) if drop is not None else 0
        while True:
            n = await self.db.execute(
                "DELETE FROM clicks WHERE id IN (SELECT id FROM clicks WHERE at < ? LIMIT ?)",
                (day, batch),
            )
            total += n
            if n < batch:
                return total

    async def purge_raw_bodies(self, before_iso: str, *, batch: int = 5000) -> int:
        """Null the raw payload of postback deliveries received before ``before_iso``."""
        total = 0
        while True:
            n = await self.db.execute(
                "UPDATE deliveries SET body = NULL WHERE id IN ("
                "SELECT id FROM deliveries WHERE received_at < ? AND body IS NOT NULL LIMIT ?)",
                (before_iso, batch),
            )
            total += n
            if n < batch:
                return total

    async def unscrubbed_bodies(self, limit: int = 500) -> list[Row]:
        """Raw bodies written before they were scrubbed (migration 0020), oldest ids first."""
        return await self.db.fetch_all(
            "SELECT id, body FROM deliveries WHERE scrubbed = 0 AND body IS NOT NULL "
            "ORDER BY id LIMIT ?",
            (limit,),
        )

    async def save_scrubbed_bodies(self, rows: list[tuple[str, str | None]]) -> None:
        async with self.db.transaction() as tx:
            for delivery_id, body in rows:
                await tx.execute(
                    "UPDATE deliveries SET body = ?, scrubbed = 1 WHERE id = ?",
                    (body, delivery_id),
                )
