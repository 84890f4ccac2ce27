"""Authentic engagement: flags on content posts (and creators) whose engagement looks bought
or pod-inflated, each with its evidence (issue 20).

A post's engagement rate is (likes + comments + shares) / followers at post time x 100, the
definition the ROI report uses. Rules, each a flag of its own (thresholds in ``Rules``):

- ``rate_high`` / ``rate_low``: the log of the rate is more than 3.5 robust standard
  deviations above (bought likes, pods) or below (bought followers who never engage) the
  median of the posts of the same tier (``robust.robust_z``; a tier needs 8 posts).
- ``few_comments`` / ``many_comments``: the log of (comments + 1) / (likes + 1) is more than
  3.5 robust deviations below (likes without comments) or above (comment pods) the tier's;
  judged only from 100 likes (few comments) or 20 comments (many comments) up.
- ``spike``: the rate is more than 3.5 robust deviations above the creator's own previous
  12 posts (4 needed) and at least twice their median.
- ``followers_jump``: the followers at post time are 1.5 times or more the median of the
  creator's previous posts' (1 needed) while the rate fell under half their median: an
  audience that grew without engaging (bought followers).
- ``bot_clicks``: the post's link (``posts.link_id``) got 30 or more clicks in the 7 days
  after the post (or until the next post with the same link), counted in whole UTC clock
  hours from the post's hour, and under 20% were human.
- ``no_conversions``: those human clicks should have brought 3 or more orders at the
  portfolio's click conversion rate over the linked posts of the range, and brought none
  (a chance of e^-3, about 5%, for an honest post).

A creator is flagged when 2 or more of their posts in the range are, and at least 25% of
them. Flagged posts can be left out of the engagement averages (``exclude_flagged``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tracker.catalogue.creators import tier_for
from tracker.core import clock
from tracker.reports import robust
from tracker.reports.build import Facts, Params
from tracker.store import Store
from tracker.store.engine import Row

HISTORY_DAYS = 180  # earlier posts read for the tier distributions and each creator's history


@dataclass(frozen=True)
class Rules:
    z: float = robust.OUTLIER_Z
    min_group: int = 8
    min_history: int = 4
    history_posts: int = 12
    spike_ratio: float = 2.0
    jump_ratio: float = 1.5
    min_likes: int = 100
    min_comments: int = 20
    min_clicks: int = 30
    human_share: float = 0.2
    expected_orders: float = 3.0
    creator_min_posts: int = 2
    creator_share: float = 0.25
    post_click_days: int = 7
    log_floor: float = 0.05  # MAD floor on log scales (5%): near-equal groups stay calm


def engagements(post: Row) -> int:
    return int(post["likes"]) + int(post["comments"]) + int(post["shares"])


def rate(post: Row, followers: int | None) -> float | None:
    """Engagement rate in percent, None without a follower count."""
    if not followers:
        return None
    return engagements(post) / followers * 100


def _comment_ratio(post: Row) -> float:
    return robust.safe_log((int(post["comments"]) + 1) / (int(post["likes"]) + 1))


def _flag(kind: str, summary: str, **evidence: Any) -> dict[str, Any]:
    return {"kind": kind, "summary": summary, "evidence": evidence}


def _tier_flags(
    post: Row, x: float | None, rates: robust.Spread, ratios: robust.Spread, rules: Rules
) -> list[dict[str, Any]]:
    out = []
    if x is not None and rates.n >= rules.min_group:
        z = rates.z(x, floor=rules.log_floor)
        median = round(math.exp(rates.median), 3)
        if z is not None and abs(z) > rules.z:
            word = "above" if z > 0 else "below"
            out.append(
                _flag(
                    "rate_high" if z > 0 else "rate_low",
                    f"engagement rate {math.exp(x):.2f}% is {abs(z):.1f} robust "
                    f"deviations {word} the tier's median {median}%",
                    rate_pct=round(math.exp(x), 3),
                    tier_median_pct=median,
                    z=round(z, 2),
                    tier_posts=rates.n,
                )
            )
    if ratios.n >= rules.min_group:
        z = ratios.z(_comment_ratio(post), floor=rules.log_floor)
        likes, comments = int(post["likes"]), int(post["comments"])
        typical = round(math.exp(ratios.median) * 100, 2)
        evidence = {
            "likes": likes,
            "comments": comments,
            "tier_comments_per_100_likes": typical,
            "z": None if z is None else round(z, 2),
        }
        if z is not None and z < -rules.z and likes >= rules.min_likes:
            out.append(
                _flag(
                    "few_comments",
                    f"{likes:,} likes but {comments:,} comments: {abs(z):.1f} robust deviations "
                    f"under the tier's usual {typical} comments per 100 likes",
                    **evidence,
                )
            )
        elif z is not None and z > rules.z and comments >= rules.min_comments:
            out.append(
                _flag(
                    "many_comments",
                    f"{comments:,} comments on {likes:,} likes: {z:.1f} robust deviations "
                    f"over the tier's usual {typical} comments per 100 likes (a pod?)",
                    **evidence,
                )
            )
    return out


def _spike(x: float | None, history: list[float], rules: Rules) -> dict[str, Any] | None:
    if x is None or len(history) < rules.min_history:
        return None
    z = robust.robust_z(x, history, floor=rules.log_floor)
    median = math.exp(statistics.median(history))
    ratio = math.exp(x) / median if median else None
    if z is None or z <= rules.z or ratio is None or ratio < rules.spike_ratio:
        return None
    return _flag(
        "spike",
        f"engagement rate {ratio:.1f}x the creator's median of their previous "
        f"{len(history)} posts ({median:.2f}%)",
        rate_pct=round(math.exp(x), 3),
        own_median_pct=round(median, 3),
        ratio=round(ratio, 2),
        z=round(z, 2),
        earlier_posts=len(history),
    )


def _jump(
    x: float | None, followers: int | None, own: list[tuple[float, int]], rules: Rules
) -> dict[str, Any] | None:
    if x is None or not followers or not own:
        return None
    before = statistics.median(f for _, f in own)
    rate_before = math.exp(statistics.median(r for r, _ in own))
    if followers < rules.jump_ratio * before or math.exp(x) >= rate_before / 2:
        return None
    return _flag(
        "followers_jump",
        f"followers up {followers / before - 1:.0%} on the creator's earlier posts "
        f"({before:,.0f} to {followers:,}) while the engagement rate fell from "
        f"{rate_before:.2f}% to {math.exp(x):.2f}%",
        followers=followers,
        earlier_followers_median=round(before),
        rate_pct=round(math.exp(x), 3),
        earlier_rate_median_pct=round(rate_before, 3),
    )


def _click_flags(stats: Row | None, conversion: float | None, rules: Rules) -> list[dict[str, Any]]:
    if not stats:
        return []
    clicks, human, orders = int(stats["clicks"]), int(stats["human_clicks"]), int(stats["orders"])
    out = []
    if clicks >= rules.min_clicks and human < rules.human_share * clicks:
        out.append(
            _flag(
                "bot_clicks",
                f"{clicks:,} clicks on the post's link, only {human:,} human "
                f"({human / clicks:.0%})",
                clicks=clicks,
                human_clicks=human,
            )
        )
    expected = human * (conversion or 0.0)
    if orders == 0 and expected >= rules.expected_orders:
        out.append(
            _flag(
                "no_conversions",
                f"{human:,} human clicks and no order where {expected:.1f} were expected at "
                f"the portfolio's {conversion:.2%} (chance {robust.poisson_zero(expected):.1%})",
                human_clicks=human,
                orders=0,
                expected_orders=round(expected, 2),
                portfolio_conversion_pct=round((conversion or 0) * 100, 3),
            )
        )
    return out


def flag_posts(
    posts: list[Row],
    *,
    followers_of: Callable[[Row], int | None],
    tier_of: Callable[[Row], str],
    clicks: dict[str, Row],
    conversion: float | None,
    judge_from: str,
    rules: Rules = Rules(),
) -> dict[str, list[dict[str, Any]]]:
    """Flags of each post posted at or after ``judge_from`` (the earlier posts are only the
    background). ``posts`` sorted by ``posted_at``; ``clicks``: per post id, the clicks,
    human clicks and orders of its link after it; ``conversion``: orders per human click."""
    logs: dict[str, float | None] = {}
    rates_by_tier: dict[str, list[float]] = defaultdict(list)
    ratios_by_tier: dict[str, list[float]] = defaultdict(list)
    for post in posts:
        r = rate(post, followers_of(post))
        logs[post["id"]] = robust.safe_log(r) if r is not None else None
        if logs[post["id"]] is not None:
            rates_by_tier[tier_of(post)].append(logs[post["id"]] or 0.0)
        ratios_by_tier[tier_of(post)].append(_comment_ratio(post))
    rate_spread = {t: robust.Spread.of(v) for t, v in rates_by_tier.items()}
    ratio_spread = {t: robust.Spread.of(v) for t, v in ratios_by_tier.items()}
    none = robust.Spread.of([])
    history: dict[str, list[tuple[float, int]]] = defaultdict(list)
    out: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        x = logs[post["id"]]
        own = history[post["creator_id"]][-rules.history_posts :]
        followers = followers_of(post)
        if post["posted_at"] >= judge_from:
            tier = tier_of(post)
            flags = _tier_flags(
                post, x, rate_spread.get(tier, none), ratio_spread.get(tier, none), rules
            )
            for extra in (_spike(x, [r for r, _ in own], rules), _jump(x, followers, own, rules)):
                flags += [extra] if extra else []
            flags += _click_flags(clicks.get(post["id"]), conversion, rules)
            out[post["id"]] = flags
        if x is not None and followers:
            history[post["creator_id"]].append((x, followers))
    return out


def average_rate(posts: list[Row], followers_of: Callable[[Row], int | None]) -> float | None:
    """Sum of engagements / sum of followers x 100 over posts with a follower count."""
    num = den = 0
    for post in posts:
        followers = followers_of(post)
        if followers:
            num += engagements(post)
            den += followers
    return round(num / den * 100, 3) if den else None


def click_windows(posts: list[Row], days: int) -> list[tuple[str, str, str, str]]:
    """(post id, link id, first hour, end hour) per post with a link, in UTC clock hours
    ('YYYY-MM-DDTHH'): its link's clicks from the post's hour for ``days`` days, or until
    the hour of the next post with the same link, whichever comes first."""
    by_link: dict[str, list[Row]] = defaultdict(list)
    for post in posts:
        if post.get("link_id"):
            by_link[post["link_id"]].append(post)
    out = []
    for link_id, rows in by_link.items():
        rows.sort(key=lambda r: r["posted_at"])
        for i, post in enumerate(rows):
            first = post["posted_at"][:13]
            end = clock.shift(first + ":00:00Z", timedelta(days=days))[:13]
            if i + 1 < len(rows):
                end = min(end, rows[i + 1]["posted_at"][:13])
            out.append((post["id"], link_id, first, end))
    return out


def post_clicks(
    windows: list[tuple[str, str, str, str]], hours: list[Row], orders: list[Row]
) -> dict[str, dict[str, int]]:
    """Clicks, human clicks and orders per post, from per-(link, hour) counts and the
    (link, hour, order) of each order's click touch; an order counts once per post."""
    by_link: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    out: dict[str, dict[str, int]] = {}
    for post_id, link_id, first, end in windows:
        by_link[link_id].append((first, end, post_id))
        out[post_id] = {"clicks": 0, "human_clicks": 0, "orders": 0}

    def owner(link_id: str, hour: str) -> str | None:
        for first, end, post_id in by_link.get(link_id, ()):
            if first <= hour < end:
                return post_id
        return None

    for r in hours:
        got = owner(r["link_id"], r["hour"])
        if got:
            out[got]["clicks"] += int(r["clicks"])
            out[got]["human_clicks"] += int(r["human_clicks"])
    seen: set[tuple[str, str]] = set()
    for r in orders:
        got = owner(r["link_id"], r["hour"])
        if got and (got, r["order_id"]) not in seen:
            seen.add((got, r["order_id"]))
            out[got]["orders"] += 1
    return out


async def judge(
    store: Store, p: Params, creators: dict[str, Row], rules: Rules = Rules()
) -> tuple[list[Row], dict[str, list[dict[str, Any]]], dict[str, Row]]:
    """The posts of the range (with the earlier ones as background), their flags, and the
    click counts of the linked ones."""
    since = clock.shift(p.start_at, -timedelta(days=HISTORY_DAYS))
    posts = sorted(await store.posts_between(since, p.end_at), key=lambda r: r["posted_at"])

    def followers_of(post: Row) -> int | None:
        own = post.get("followers_at_post")
        return (
            int(own) if own else int((creators.get(post["creator_id"]) or {}).get("followers") or 0)
        )

    def tier_of(post: Row) -> str:
        return tier_for(followers_of(post) or 0, p.tiers)

    in_range = [post for post in posts if post["posted_at"] >= p.start_at]
    windows = click_windows(in_range, rules.post_click_days)
    links = sorted({w[1] for w in windows})
    span = (min((w[2] for w in windows), default=""), max((w[3] for w in windows), default=""))
    start, end = span[0] + ":00:00Z", span[1] + ":00:00Z"
    stats = post_clicks(
        windows,
        await store.link_hours(links, start, end) if links else [],
        await store.link_click_orders(links, start, end) if links else [],
    )
    human = sum(int(r["human_clicks"]) for r in stats.values())
    conversion = sum(int(r["orders"]) for r in stats.values()) / human if human else None
    flags = flag_posts(
        posts,
        followers_of=followers_of,
        tier_of=tier_of,
        clicks=stats,
        conversion=conversion,
        judge_from=p.start_at,
        rules=rules,
    )
    for post in in_range:
        post["_followers"] = followers_of(post)
        post["_tier"] = tier_of(post)
    return in_range, flags, stats


def creator_flag(flagged: int, posts: int, rules: Rules = Rules()) -> bool:
    return flagged >= rules.creator_min_posts and flagged >= rules.creator_share * posts


async def report(store: Store, p: Params, creators: dict[str, Row]) -> dict[str, Any]:
    """Flagged posts with their evidence, per-creator and per-tier averages with and without
    them (``engagement_rate_pct`` / ``authentic_rate_pct``)."""
    # long: three views (posts, creators, tiers) of one judgement, in the order returned
    posts, flags, stats = await judge(store, p, creators)

    def fol(post: Row) -> int | None:
        return int(post["_followers"]) if post["_followers"] else None

    by_creator: dict[str, list[Row]] = defaultdict(list)
    by_tier: dict[str, list[Row]] = defaultdict(list)
    for post in posts:
        by_creator[post["creator_id"]].append(post)
        by_tier[post["_tier"]].append(post)

    def summary(rows: list[Row]) -> dict[str, Any]:
        clean = [r for r in rows if not flags.get(r["id"])]
        return {
            "posts": len(rows),
            "flagged_posts": len(rows) - len(clean),
            "engagement_rate_pct": average_rate(rows, fol),
            "authentic_rate_pct": average_rate(clean, fol),
        }

    creator_rows = []
    for cid, rows in by_creator.items():
        s = summary(rows)
        kinds: dict[str, int] = defaultdict(int)
        for r in rows:
            for f in flags.get(r["id"], []):
                kinds[f["kind"]] += 1
        creator_rows.append(
            {
                "creator_id": cid,
                "handle": (creators.get(cid) or {}).get("handle", cid),
                "tier": rows[-1]["_tier"],
                **s,
                "flags_by_kind": dict(sorted(kinds.items())),
                "flagged": creator_flag(s["flagged_posts"], s["posts"]),
            }
        )
    creator_rows.sort(key=lambda r: (not r["flagged"], -r["flagged_posts"], str(r["handle"])))
    flagged_posts = [
        {
            "post_id": post["id"],
            "creator_id": post["creator_id"],
            "handle": (creators.get(post["creator_id"]) or {}).get("handle", post["creator_id"]),
            "platform": post["platform"],
            "format": post["format"],
            "url": post["url"],
            "posted_at": post["posted_at"],
            "tier": post["_tier"],
            "likes": post["likes"],
            "comments": post["comments"],
            "shares": post["shares"],
            "followers": post["_followers"],
            "engagement_rate_pct": rate(post, fol(post)),
            "link_clicks": stats.get(post["id"]),
            "flags": flags[post["id"]],
        }
        for post in posts
        if flags.get(post["id"])
    ]
    for row in flagged_posts:
        r = row["engagement_rate_pct"]
        row["engagement_rate_pct"] = None if r is None else round(r, 3)
    return {
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "rules": Rules().__dict__,
        "totals": summary(posts),
        "tiers": [{"tier": t, **summary(rows)} for t, rows in sorted(by_tier.items())],
        "creators": creator_rows,
        "flagged_posts": flagged_posts,
    }


async def drop_flagged(store: Store, p: Params, facts: Facts) -> dict[str, int]:
    """Leave the flagged posts out of ``facts`` (so a report built on it averages only the
    authentic ones); returns the number left out per creator."""
    _, flags, _ = await judge(store, p, facts.creators)
    dropped: dict[str, int] = defaultdict(int)
    kept = []
    for post in facts.posts:
        if flags.get(post["id"]):
            dropped[post["creator_id"]] += 1
        else:
            kept.append(post)
    facts.posts = kept
    return dict(dropped)
