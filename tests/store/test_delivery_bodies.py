"""A delivery's audit body on PostgreSQL is compressed with lz4 where the server has it
(migration 0093): pglz was the largest statement of a signed postback. The body reads back
byte for byte on both engines."""

from __future__ import annotations

import pytest

from tests.conftest import Running

pytestmark = pytest.mark.anyio


async def test_a_large_body_round_trips_and_postgresql_compresses_it_with_lz4(
    live: Running,
) -> None:
    db = live.store.db
    shop = await live.store.create_shop(
        {
            "slug": "s",
            "name": "S",
            "platform": "generic",
            "secret": "x" * 32,
            "currency": "USD",
            "pixel_token": "px_" + "0" * 24,
        }
    )
    body = '{"note": "' + "ab" * 20_000 + '"}'
    await db.execute(
        "INSERT INTO deliveries (id, shop_id, delivery_key, source, topic, order_external_id, "
        "outcome, received_at, body, scrubbed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "dl_1",
            shop["id"],
            "k1",
            "generic",
            "order",
            "1",
            "accepted",
            "2026-12-01T00:00:00Z",
            body,
            1,
        ),
    )
    row = await db.fetch_one("SELECT body FROM deliveries WHERE id = ?", ("dl_1",))
    assert row is not None and row["body"] == body
    if db.dialect != "postgres":
        return
    method = await db.fetch_one("SELECT pg_column_compression(body) AS m FROM deliveries")
    available = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    assert method is not None and available is not None
    assert method["m"] == ("lz4" if available["n"] else "pglz")
