"""Creator score and roster advice (issue 20): one composite score with its parts visible,
and per creator one piece of advice (renew, expand, watch, conclude) with its reasons.

The window is the last 30 days of the range, compared with the 30 days before (as the
recommendations always were). Parts, each 0..100, None when there is too little to judge:

- ``roi``: percentile rank of the creator's ROAS among the creators with a cost.
- ``conversion``: percentile rank of the click conversion rate among the creators with 50
  or more human clicks.
- ``consistency``: 100 x (1 - robust CV) of the engagement rates of the creator's authentic
  posts in the range (3 needed); robust CV = 1.4826 x MAD / median, floored at 0.
- ``authenticity``: 100 x the share of the creator's posts in the range with no flag
  (``tracker.reports.engagement``).
- ``trend``: 50 + 50 x tanh(ln(revenue now / revenue before)): 50 flat, 80 doubled, 20
  halved; 100 from nothing, None when both are 0.

Score = the weighted mean of the parts present (weights ``WEIGHTS``: ROI 35, conversion 20,
the others 15), with ``coverage`` the sum of the weights present: a score from ROI alone
(coverage 0.35) says less than one from all five.

Advice, the first rule that holds:
- conclude: a cost, ROAS under 1 and a trend of 50 or less; or engagement flagged (2+ posts
  and 25%+) with ROAS unknown or under 3.
- watch: CPA rising (above the portfolio median and above the creator's previous CPA), or
  authenticity under 80, or trend under 25 (revenue down by more than about 40%), or ROAS
  under 3, or no cost recorded in the window (ROI unknown).
- expand: ROAS 5 or more on no more than the median spend, trend 40 or more (or unknown),
  authenticity 80 or more (or no posts).
- renew: everything else.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from typing import Any

from tracker.catalogue.creators import tier_for
from tracker.reports import build as reports
from tracker.reports import engagement, robust, roi
from tracker.reports.build import Params
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row

WEIGHTS = {
    "roi": 0.35,
    "conversion": 0.20,
    "consistency": 0.15,
    "authenticity": 0.15,
    "trend": 0.15,
}
MIN_HUMAN_CLICKS = 50
MIN_POSTS = 3
ADVICE = ("renew", "expand", "watch", "conclude")


def trend_part(now: float, before: float) -> float | None:
    if now <= 0 and before <= 0:
        return None
    if before <= 0:
        return 100.0
    if now <= 0:
        return 0.0
    return round(50 + 50 * math.tanh(math.log(now / before)), 1)


def consistency_part(rates: list[float]) -> float | None:
    if len(rates) < MIN_POSTS:
        return None
    cv = robust.robust_cv(rates)
    return None if cv is None else round(100 * max(0.0, 1 - cv), 1)


def authenticity_part(posts: int, flagged: int) -> float | None:
    return None if not posts else round(100 * (posts - flagged) / posts, 1)


def composite(parts: dict[str, float | None]) -> tuple[float | None, float]:
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(WEIGHTS[k] for k in present)
    if not weight:
        return None, 0.0
    return round(sum(WEIGHTS[k] * v for k, v in present.items()) / weight, 1), round(weight, 2)


def rising_cpa(now_rows: list[Row], old_rows: dict[str, Row]) -> list[dict[str, Any]]:
    """CPA above the portfolio median and above the creator's own previous CPA."""
    median_cpa = roi.median([r["cpa_minor"] for r in now_rows if r["cpa_minor"] is not None])
    out = []
    for r in now_rows:
        prev = old_rows.get(r["key"], {}).get("cpa_minor")
        if (
            median_cpa is not None
            and r["cpa_minor"] is not None
            and r["cpa_minor"] > median_cpa
            and prev is not None  # rising needs a previous CPA to rise from
            and r["cpa_minor"] > prev
        ):
            out.append(
                {
                    "creator": r["label"],
                    "cpa_minor": r["cpa_minor"],
                    "previous_cpa_minor": prev,
                    "portfolio_median_cpa_minor": round(median_cpa),
                }
            )
    return out


def advise(
    row: Row,
    parts: dict[str, float | None],
    *,
    rising: bool,
    flagged: bool,
    median_spend: float | None,
) -> tuple[str, list[str]]:
    roas, cost = row["roas"], row["cost_minor"] or 0
    trend, auth = parts["trend"], parts["authenticity"]
    if cost and roas is not None and roas < 1 and (trend is None or trend <= 50):
        return "conclude", [
            f"ROAS {roas:.2f}: each unit spent brought back {roas:.2f}",
            f"revenue not rising (trend {trend if trend is not None else 'unknown'})",
        ]
    if flagged and (roas is None or roas < 3):
        return "conclude", [
            f"engagement flagged on {100 - (auth or 0):.0f}% of the posts",
            f"ROAS {'unknown' if roas is None else f'{roas:.2f}'}",
        ]
    reasons = []
    if rising:
        reasons.append("cost per order rising above the portfolio median")
    if auth is not None and auth < 80:
        reasons.append(f"authenticity {auth:.0f}: some posts flagged")
    if trend is not None and trend < 25:
        reasons.append(f"revenue falling (trend {trend:.0f})")
    if cost and roas is not None and roas < 3:
        reasons.append(f"ROAS {roas:.2f} under 3")
    if not cost:
        reasons.append("no cost recorded in the window: ROI unknown")
    if reasons:
        return "watch", reasons
    if (
        roas is not None
        and roas >= 5
        and median_spend is not None
        and cost <= median_spend
        and (trend is None or trend >= 40)
    ):
        return "expand", [
            f"ROAS {roas:.2f} (strong) on {cost / median_spend:.0%} of the median spend",
            f"trend {trend if trend is not None else 'unknown'}",
        ]
    return "renew", [f"ROAS {roas:.2f}" if roas is not None else "ROAS unknown"]


async def windows(
    store: Store, settings: Settings, p: Params
) -> tuple[Params, list[Row], dict[str, Row]]:
    """The last 30 days of the range, its creator rows, and the previous 30 days' by key
    (money and orders only: their click counts are 0).

    The window's clicks are counted per link (the clicks' time index holds the link, not
    the creator: reading every click row for its creator takes seconds at 1M clicks) and
    given to the link's creator; a link moved to another creator takes its clicks along."""
    last = replace(p, start=p.end - timedelta(days=29))
    before = replace(p, start=p.end - timedelta(days=59), end=p.end - timedelta(days=30))
    report = await reports.build(store, settings, last, "creator", distinct=False, clicks=False)
    rows = {r["key"]: r for r in report["rows"] if r["key"]}
    owner = {r["id"]: r["creator_id"] for r in await store.links_meta()}
    creators = {r["id"]: r for r in await store.creators_meta()}
    clicks: dict[str, list[int]] = {}
    for c in await store.click_facts("link", last.start_at, last.end_at, p.tiers, distinct=False):
        creator = owner.get(c["key"] or "")
        if creator:
            got = clicks.setdefault(creator, [0, 0])
            got[0] += c["clicks"]
            got[1] += c["human_clicks"]
    for cid, (n, human) in clicks.items():
        if cid not in rows and cid in creators:  # clicks, and nothing else in the window
            rows[cid] = {
                **roi.derive({}),
                "key": cid,
                "label": creators[cid]["handle"],
                "tier": tier_for(int(creators[cid]["followers"]), p.tiers),
                "revenue_minor": 0,
                "cost_minor": 0,
            }
        if cid in rows:
            rows[cid] = {
                **rows[cid],
                **roi.derive({**rows[cid], "clicks": n, "human_clicks": human}),
            }
    # the previous window gives revenue, cost and CPA: no click is read for it
    old = await reports.build(store, settings, before, "creator", distinct=False, clicks=False)
    return last, list(rows.values()), {r["key"]: r for r in old["rows"]}


async def scorecard(
    store: Store,
    settings: Settings,
    p: Params,
    *,
    wins: tuple[Params, list[Row], dict[str, Row]] | None = None,
) -> dict[str, Any]:
    # long: gathers five inputs, then one row per creator
    last, now_rows, old_rows = wins or await windows(store, settings, p)
    creators = {r["id"]: r for r in await store.creators_meta()}
    posts, flags, _ = await engagement.judge(store, p, creators)
    rates: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    for post in posts:
        c = counts.setdefault(post["creator_id"], [0, 0])
        c[0] += 1
        if flags.get(post["id"]):
            c[1] += 1
            continue
        value = engagement.rate(post, post["_followers"])
        if value is not None:
            rates.setdefault(post["creator_id"], []).append(value)
    roas_all = [r["roas"] for r in now_rows if r["roas"] is not None]
    conv_all = [
        r["conversion_rate"]
        for r in now_rows
        if r["conversion_rate"] is not None and r["human_clicks"] >= MIN_HUMAN_CLICKS
    ]
    median_spend = roi.median([r["cost_minor"] for r in now_rows if r["cost_minor"]])
    rising = {r["creator"] for r in rising_cpa(now_rows, old_rows)}
    out = []
    for r in now_rows:
        n_posts, n_flagged = counts.get(r["key"], [0, 0])
        before = old_rows.get(r["key"], {}).get("revenue_minor") or 0
        parts = {
            "roi": robust.percentile_rank(r["roas"], roas_all) if r["roas"] is not None else None,
            "conversion": robust.percentile_rank(r["conversion_rate"], conv_all)
            if r["conversion_rate"] is not None and r["human_clicks"] >= MIN_HUMAN_CLICKS
            else None,
            "consistency": consistency_part(rates.get(r["key"], [])),
            "authenticity": authenticity_part(n_posts, n_flagged),
            "trend": trend_part(r["revenue_minor"], before),
        }
        score, coverage = composite(parts)
        advice, reasons = advise(
            r,
            parts,
            rising=r["label"] in rising,
            flagged=engagement.creator_flag(n_flagged, n_posts),
            median_spend=median_spend,
        )
        out.append(
            {
                "creator_id": r["key"],
                "handle": r["label"],
                "tier": r.get("tier"),
                "score": score,
                "coverage": coverage,
                "parts": parts,
                "advice": advice,
                "reasons": reasons,
                "numbers": {
                    "roas": r["roas"],
                    "roi_pct": r["roi_pct"],
                    "cost_minor": r["cost_minor"],
                    "revenue_minor": r["revenue_minor"],
                    "previous_revenue_minor": before,
                    "cpa_minor": r["cpa_minor"],
                    "conversion_rate": r["conversion_rate"],
                    "human_clicks": r["human_clicks"],
                    "posts": n_posts,
                    "flagged_posts": n_flagged,
                    "portfolio_median_cost_minor": None
                    if median_spend is None
                    else round(median_spend),
                },
            }
        )
    out.sort(key=lambda x: (-(x["score"] if x["score"] is not None else -1), str(x["handle"])))
    return {
        "window": {"start": last.start.isoformat(), "end": last.end.isoformat()},
        "currency": p.currency,
        "weights": WEIGHTS,
        "advice_counts": {a: sum(1 for x in out if x["advice"] == a) for a in ADVICE},
        "creators": out,
    }
