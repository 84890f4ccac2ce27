"""Issue 20, the pure maths: planted fake engagement found (precision and recall printed),
a planted response curve recovered, posting windows with planted peaks, score parts."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tracker.reports import curves, engagement, robust, scores, timing
from tracker.reports.build import Params

# -- authentic engagement ----------------------------------------------------------------------
TIERS = {
    "nano": (2_000, 9_000, 0.06),
    "micro": (12_000, 90_000, 0.035),
    "mid": (120_000, 400_000, 0.02),
}


def _tier(followers: int) -> str:
    return "nano" if followers < 10_000 else "micro" if followers < 100_000 else "mid"


def planted_posts(seed: int = 7) -> tuple[list[dict[str, Any]], dict[str, str], str]:
    """60 creators (20 per tier) x 8 posts; among the last 4 of each (the judged ones), 22
    planted: bought likes, comment pods, bought followers, sudden spikes."""
    rng = random.Random(seed)
    posts: list[dict[str, Any]] = []
    planted: dict[str, str] = {}
    judge_from = "2026-06-01T00:00:00.000000Z"
    n = 0
    for tier, (lo, hi, base) in TIERS.items():
        for i in range(20):
            cid = f"{tier}{i}"
            followers = rng.randint(lo, hi)
            own = math.log(base) + rng.gauss(0, 0.25)
            for k in range(8):
                day = 10 + k * 6 if k < 4 else k - 3  # 4 in April-May, 4 in June
                month = 4 + (day - 1) // 30 if k < 4 else 6
                at = f"2026-{month:02d}-{(day - 1) % 30 + 1:02d}T12:{k:02d}:00.000000Z"
                rate = math.exp(own + rng.gauss(0, 0.2))
                likes = round(followers * rate)
                comments = round(likes * math.exp(math.log(0.03) + rng.gauss(0, 0.3)))
                post = {
                    "id": f"po{n}",
                    "creator_id": cid,
                    "posted_at": at,
                    "likes": likes,
                    "comments": comments,
                    "shares": 0,
                    "followers_at_post": followers,
                }
                n += 1
                if k >= 4 and n % 11 == 0:
                    kind = ("likes", "pod", "followers", "spike")[(n // 11) % 4]
                    if kind == "likes":
                        post["likes"] = likes * 8
                    elif kind == "pod":
                        post["comments"] = max(comments * 10, 20)
                    elif kind == "followers":
                        post["followers_at_post"] = followers * 8
                    else:
                        post["likes"], post["comments"] = likes * 4, comments * 4
                    planted[post["id"]] = kind
                posts.append(post)
    posts.sort(key=lambda p: p["posted_at"])
    return posts, planted, judge_from


def test_planted_fake_engagement_is_flagged_and_genuine_posts_are_not() -> None:
    posts, planted, judge_from = planted_posts()
    flags = engagement.flag_posts(
        posts,
        followers_of=lambda p: p["followers_at_post"],
        tier_of=lambda p: _tier(p["followers_at_post"]),
        clicks={},
        conversion=None,
        judge_from=judge_from,
    )
    judged = set(flags)
    assert len(judged) == 240 and set(planted) <= judged
    flagged = {pid for pid, f in flags.items() if f}
    hits = flagged & set(planted)
    precision = len(hits) / len(flagged)
    recall = len(hits) / len(planted)
    print(
        f"\nauthentic engagement: {len(planted)} planted of {len(judged)} judged posts; "
        f"flagged {len(flagged)}; precision {precision:.2f}, recall {recall:.2f}"
    )
    assert precision >= 0.9 and recall >= 0.9
    kinds = {pid: {f["kind"] for f in flags[pid]} for pid in hits}
    for pid, kind in planted.items():
        if pid not in hits:
            continue
        expected = {
            "likes": "few_comments",
            "pod": "many_comments",
            "followers": "followers_jump",
            "spike": "spike",
        }[kind]
        assert expected in kinds[pid], (pid, kind, kinds[pid])
    one = flags[next(iter(hits))][0]
    assert one["summary"] and one["evidence"]  # each flag explains itself


def test_click_flags_need_enough_clicks_and_say_why() -> None:
    post = {
        "id": "p",
        "creator_id": "c",
        "posted_at": "2026-06-02T00:00:00.000000Z",
        "likes": 10,
        "comments": 1,
        "shares": 0,
    }

    def run(clicks: dict[str, int], conversion: float | None) -> set[str]:
        out = engagement.flag_posts(
            [post],
            followers_of=lambda p: 1000,
            tier_of=lambda p: "t",
            clicks={"p": clicks},
            conversion=conversion,
            judge_from="2026-06-01",
        )
        return {f["kind"] for f in out["p"]}

    assert run({"clicks": 400, "human_clicks": 40, "orders": 0}, None) == {"bot_clicks"}
    assert run({"clicks": 29, "human_clicks": 0, "orders": 0}, None) == set()  # too few to judge
    # 300 human clicks at 2%: 6 orders expected, none came (chance e^-6)
    assert run({"clicks": 310, "human_clicks": 300, "orders": 0}, 0.02) == {"no_conversions"}
    assert run({"clicks": 310, "human_clicks": 300, "orders": 1}, 0.02) == set()
    assert run({"clicks": 100, "human_clicks": 100, "orders": 0}, 0.02) == set()  # 2 expected


def test_averages_and_click_windows() -> None:
    rows = [
        {
            "id": "a",
            "link_id": "l1",
            "posted_at": "2026-06-01T00:00:00.000000Z",
            "likes": 90,
            "comments": 10,
            "shares": 0,
        },
        {
            "id": "b",
            "link_id": "l1",
            "posted_at": "2026-06-03T00:00:00.000000Z",
            "likes": 10,
            "comments": 0,
            "shares": 0,
        },
        {
            "id": "c",
            "link_id": None,
            "posted_at": "2026-06-03T00:00:00.000000Z",
            "likes": 10,
            "comments": 0,
            "shares": 0,
        },
    ]
    assert engagement.average_rate(rows, lambda p: 1000) == 4.0  # 120 / 3000
    assert engagement.average_rate(rows, lambda p: None) is None
    wins = engagement.click_windows(rows, 7)
    assert wins == [
        ("a", "l1", "2026-06-01T00", "2026-06-03T00"),  # until the next post with the link
        ("b", "l1", "2026-06-03T00", "2026-06-10T00"),
    ]
    hours = [
        {"link_id": "l1", "hour": "2026-06-01T05", "clicks": 10, "human_clicks": 8},
        {"link_id": "l1", "hour": "2026-06-03T00", "clicks": 4, "human_clicks": 1},
        {"link_id": "l1", "hour": "2026-06-10T00", "clicks": 99, "human_clicks": 99},  # after
        {"link_id": "l2", "hour": "2026-06-01T05", "clicks": 7, "human_clicks": 7},  # no post
    ]
    orders = [
        {"link_id": "l1", "hour": "2026-06-01T05", "order_id": "o1"},
        {"link_id": "l1", "hour": "2026-06-01T06", "order_id": "o1"},  # two touches, one order
        {"link_id": "l1", "hour": "2026-06-04T06", "order_id": "o2"},
    ]
    assert engagement.post_clicks(wins, hours, orders) == {
        "a": {"clicks": 10, "human_clicks": 8, "orders": 1},
        "b": {"clicks": 4, "human_clicks": 1, "orders": 1},
    }
    assert engagement.creator_flag(2, 8) and not engagement.creator_flag(2, 9)
    assert not engagement.creator_flag(1, 1)


def test_robust_helpers() -> None:
    vals = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert robust.mad(vals) == 1.0 and robust.robust_z(3.0, vals) == 0.0
    assert robust.robust_z(7.0, vals) == pytest.approx(4 / 1.4826)
    assert robust.robust_z(1.0, [2.0, 2.0, 2.0]) is None
    assert robust.percentile_rank(3.0, vals) == 50.0
    assert robust.robust_cv([10.0, 10.0, 10.0]) == 0.0


# -- budget forecast: response curves ----------------------------------------------------------
def planted_curve(
    a: float, b: float, c: float, seed: int = 3, n: int = 12
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        spend = rng.uniform(0.1, 3.0) * b
        out.append((spend, (c + a * (1 - math.exp(-spend / b))) * math.exp(rng.gauss(0, 0.05))))
    return out


def test_forecast_recovers_a_planted_response_curve() -> None:
    a, b, c = 50_000.0, 20_000.0, 2_000.0
    points = planted_curve(a, b, c)
    fit = curves.fit(points)
    assert fit.kind == "saturating"
    print(
        f"\nplanted a={a:.0f} b={b:.0f} c={c:.0f}; fitted a={fit.a:.0f} b={fit.b:.0f} c={fit.c:.0f} r2={fit.r2}"
    )
    assert fit.a == pytest.approx(a, rel=0.2) and fit.b == pytest.approx(b, rel=0.3)
    for spend in (10_000, 30_000, 50_000):
        truth = c + a * (1 - math.exp(-spend / b))
        assert fit.revenue(spend) == pytest.approx(truth, rel=0.05)
    draws = curves.bootstrap(points, [30_000.0], fit)
    low, high = (
        curves.percentile([d[0] for d in draws], 0.05),
        curves.percentile([d[0] for d in draws], 0.95),
    )
    truth = c + a * (1 - math.exp(-30_000 / b))
    assert low < truth < high and high - low < 0.2 * truth
    assert curves.bootstrap(points, [30_000.0], fit) == draws  # seeded: the same answer twice
    # diminishing returns: the next unit of spend earns less the more is spent
    assert fit.marginal(5_000) > fit.marginal(40_000) > 0


def test_no_curvature_without_varied_spend_and_allocation_equalises_margins() -> None:
    flat = curves.fit([(10_000.0, 40_000.0), (10_000.0, 44_000.0), (10_000.0, 36_000.0)])
    assert flat.kind == "linear" and flat.a == pytest.approx(4.0)
    assert curves.fit([]).kind == "none"
    one = curves.Curve("saturating", 60_000, 20_000, 0, 12, 60_000)
    two = curves.Curve("saturating", 30_000, 10_000, 0, 12, 30_000)
    split = curves.allocate({"one": one, "two": two}, 40_000, {"one": 1e9, "two": 1e9}, steps=4000)
    assert sum(split.values()) == pytest.approx(40_000)
    # optimum: a1/b1 e^(-x1/b1) = a2/b2 e^(-x2/b2) -> 3 e^(-x1/20000) = 3 e^(-x2/10000)
    # -> x1 = 2 x2 -> x1 = 26,667, x2 = 13,333
    assert split["one"] == pytest.approx(80_000 / 3, abs=40) and split["two"] == pytest.approx(
        40_000 / 3, abs=40
    )
    capped = curves.allocate({"one": one, "two": two}, 40_000, {"one": 5_000, "two": 1e9})
    assert capped["one"] == pytest.approx(5_000)


# -- posting times -----------------------------------------------------------------------------
def test_hour_of_week_occurrences_and_best_windows() -> None:
    utc = ZoneInfo("UTC")
    assert timing.hour_of_week("2026-11-30T00", utc) == 0  # a Monday
    assert timing.hour_of_week("2026-11-30T00", ZoneInfo("America/New_York")) == 6 * 24 + 19
    p = Params(date(2026, 11, 1), date(2026, 11, 30), "last", 7, 30, 7, "USD")
    occ = timing.occurrences(p, utc)
    assert sum(occ) == 30 * 24 and occ[0] == 5 and occ[24] == 4  # five Mondays, four Tuesdays
    per_week = [1.0] * 168
    for h in (24 + 19, 24 + 20, 24 + 21):  # Tuesday 19-22h
        per_week[h] = 30.0
    per_week[5 * 24 + 10] = 20.0  # Saturday 10h
    best = timing.best_windows(per_week)
    assert best[0] == 24 + 19 and timing.label(best[0], 3) == "Tue 19:00-22:00"
    assert 5 * 24 + 10 in range(best[1], best[1] + 3)
    g = timing.grid([c * 2 for c in per_week], [0.0] * 168, [0.0] * 168, [2] * 168)
    assert g["best_windows"][0]["label"] == "Tue 19:00-22:00"
    assert g["best_windows"][0]["human_clicks_per_week"] == 90.0


# -- scores and advice -------------------------------------------------------------------------
def test_score_parts_and_advice() -> None:
    assert scores.trend_part(200, 100) == pytest.approx(80.0)
    assert scores.trend_part(50, 100) == pytest.approx(20.0)
    assert scores.trend_part(100, 100) == 50.0 and scores.trend_part(10, 0) == 100.0
    assert scores.trend_part(0, 0) is None
    assert scores.consistency_part([2.0, 2.0, 2.0]) == 100.0
    assert scores.consistency_part([1.0, 2.0]) is None  # too few posts
    assert scores.authenticity_part(8, 2) == 75.0
    parts: dict[str, float | None] = {
        "roi": 90,
        "conversion": None,
        "consistency": 60,
        "authenticity": 100,
        "trend": 50,
    }
    score, coverage = scores.composite(parts)
    assert coverage == 0.8 and score == pytest.approx(
        (0.35 * 90 + 0.15 * 60 + 0.15 * 100 + 0.15 * 50) / 0.8, abs=0.1
    )
    row = {"roas": 6.0, "cost_minor": 10_000}
    good = {**parts, "trend": 60.0}
    assert scores.advise(row, good, rising=False, flagged=False, median_spend=20_000)[0] == "expand"
    assert scores.advise(row, good, rising=False, flagged=False, median_spend=5_000)[0] == "renew"
    assert scores.advise(row, good, rising=True, flagged=False, median_spend=20_000)[0] == "watch"
    losing = {"roas": 0.6, "cost_minor": 10_000}
    advice, reasons = scores.advise(
        losing, {**parts, "trend": 40.0}, rising=False, flagged=False, median_spend=None
    )
    assert advice == "conclude" and "0.60" in reasons[0]
    assert (
        scores.advise(
            {"roas": 2.0, "cost_minor": 1}, parts, rising=False, flagged=True, median_spend=None
        )[0]
        == "conclude"
    )
    assert (
        scores.advise(
            {"roas": None, "cost_minor": 0}, parts, rising=False, flagged=False, median_spend=None
        )[0]
        == "watch"
    )
