"""Audience overlap of the top creators, hand-counted: every visitor while the visitor sets
are small, a hash sample scaled up beyond ``TRACKER_OVERLAP_EXACT_VISITORS``; both engines,
through the API and the panel, from the day visitor sets and today's raw clicks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_admin import logged_in
from tests.conftest import Running, make_settings, running
from tests.postback_helpers import post_generic_order
from tracker.core import clock, ids
from tracker.reports.portfolio import sample_below, visitor_sample
from tracker.store import reports as store_reports

pytestmark = pytest.mark.anyio
PROXY = "203.0.113.7"  # the test client's address, trusted as the load balancer
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.18.90"
)
#: Who clicked whom: visitor numbers (each its own address) two days ago, and today.
PAST = {"ana": range(1, 41), "ben": range(21, 61), "cy": [*range(1, 6), 61]}
TODAY = {"ana": [70], "ben": [70]}


def test_the_sample_rule() -> None:
    assert visitor_sample(250_000, 250_000) == 0
    assert visitor_sample(250_001, 250_000) == 1
    assert visitor_sample(1_393_860, 100_000) == 4  # 10M clicks' top ten, measured
    assert visitor_sample(10**12, 1) == 16  # never thinner than 1 in 65,536
    assert sample_below(0) is None
    assert sample_below(1) == "80000000" and sample_below(4) == "10000000"


def ip(n: int) -> str:
    return f"198.{n}.100.7"  # each its own /24: the fingerprint keeps 24 bits


async def build(live: Running) -> dict[str, set[str]]:
    """Three creators with revenue, their clicks; returns each one's fingerprints."""
    c = live.client
    auth = await live.token()
    for handle in PAST:
        assert (await c.post("/api/v1/creators", headers=auth, json={"handle": handle})).is_success
        r = await c.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": "https://shop.example.com/", "slug": handle, "creator_id": handle},
        )
        assert r.status_code == 201
        code = {"code": f"{handle.upper()}10", "creator_id": handle}
        assert (await c.post("/api/v1/codes", headers=auth, json=code)).status_code == 201
    shop = {"slug": "gen", "platform": "generic", "currency": "USD"}
    secret = (await c.post("/api/v1/shops", headers=auth, json=shop)).json()["secret"]
    for i, handle in enumerate(PAST):
        await post_generic_order(
            c, secret, f"o{i}", 10_000 * (3 - i), discount_codes=[f"{handle.upper()}10"]
        )
    capture = live.state.capture
    two_days_ago = (clock.now() // 86400 - 2) * 86400 + 12 * 3600
    rows = []
    for handle, visitors in PAST.items():
        link = await live.store.db.fetch_one("SELECT * FROM links WHERE slug = ?", (handle,))
        for n in visitors:
            scope = {
                "method": "GET",
                "client": (ip(n), 1234),
                "headers": [(b"user-agent", IPHONE.encode())],
            }
            at = two_days_ago + n
            row = list(
                capture.row(scope, handle, link["id"], link["creator_id"], ids.click_id(at), at)
            )
            row[1] = clock.iso(at)
            rows.append(capture.complete(tuple(row)))
    await live.store.insert_clicks(rows)
    for handle, visitors in TODAY.items():
        for n in visitors:
            r = await c.get(f"/{handle}", headers={"user-agent": IPHONE, "x-forwarded-for": ip(n)})
            assert r.status_code == 302
    await live.flush()
    return {
        h: {capture.fingerprint(ip(n), IPHONE) for n in [*PAST[h], *TODAY.get(h, [])]} for h in PAST
    }


async def overlap(live: Running) -> dict[str, Any]:
    auth = await live.token()
    r = await live.client.get("/api/v1/reports/overview", headers=auth)
    assert r.status_code == 200, r.text
    ov: dict[str, Any] = r.json()["overlap"]
    return ov


def matrix(ov: dict[str, Any]) -> dict[tuple[str, str], int]:
    names = ov["creators"]
    return {(a, b): ov["visitors"][i][j] for i, a in enumerate(names) for j, b in enumerate(names)}


@pytest.mark.parametrize("seeks", [100_000, 0], ids=["index-seeks", "one-pass"])
async def test_overlap_exact_then_sampled(
    tmp_path: Path, database_url: str, seeks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of reading the day visitor sets (a seek per day and link, or one pass over
    the range when that would be too many seeks) give the same, hand-counted figures."""
    monkeypatch.setattr(store_reports, "_MAX_SEEKS", seeks)
    env = {"TRACKER_TRUSTED_PROXIES": f"{PROXY}/32"}
    async with running(make_settings(tmp_path, database_url, **env)) as live:
        prints = await build(live)
        ov = await overlap(live)
        assert ov["creators"] == ["ana", "ben", "cy"]  # by revenue
        assert ov["visitors_exact"] is True and ov["visitors_scale"] == 1
        # hand-counted: ana 1-40 and 70, ben 21-60 and 70, cy 1-5 and 61
        assert matrix(ov) == {
            ("ana", "ana"): 41, ("ana", "ben"): 21, ("ana", "cy"): 5,
            ("ben", "ana"): 21, ("ben", "ben"): 41, ("ben", "cy"): 0,
            ("cy", "ana"): 5, ("cy", "ben"): 0, ("cy", "cy"): 6,
        }  # fmt: skip
        assert all(matrix(ov)[(a, b)] == len(prints[a] & prints[b]) for a, b in matrix(ov))

    # 88 visitor rows in the range (86 of the day sets, 2 raw) against a limit of 30: halved twice, so the
    # visitors whose fingerprint sorts before "40000000" are counted, each as 4
    env["TRACKER_OVERLAP_EXACT_VISITORS"] = "30"
    async with running(make_settings(tmp_path, database_url, **env)) as live:
        ov = await overlap(live)
        assert ov["visitors_exact"] is False and ov["visitors_scale"] == 4
        sampled = {h: {f for f in fps if f < "40000000"} for h, fps in prints.items()}
        want = {(a, b): 4 * len(sampled[a] & sampled[b]) for a in prints for b in prints}
        assert matrix(ov) == want
        assert want[("ana", "ben")] > 0 and want != {
            k: len(prints[k[0]] & prints[k[1]]) for k in want
        }
        await logged_in(live)
        page = (await live.client.get("/admin/portfolio/overlap")).text
        assert 'id="overlap-sample"' in page and "one visitor in 4 is counted" in page
