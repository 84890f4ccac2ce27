"""When and what to post (issue 20): human clicks and conversions by hour of the week, per
creator or per platform, with the best posting windows; and which content types convert,
per tier.

Hour of week: each human click counts in the local hour (``tz``, an IANA zone, default UTC)
of its clock hour; a conversion counts in the hour of the click that brought it (the latest
click or fingerprint touch, within the lookbacks, of the group's creators before the order).
Because a range holds some hours of the week more often than others (30 days: four or five
Mondays), the grid shows averages per week: count / the times that hour occurs in the range.
A window is 3 consecutive hours (wrapping from Sunday night to Monday); the best windows are
the 3 non-overlapping ones with the most human clicks per week. ``enough_data`` is false
under 500 human clicks (about 3 a cell): such a grid's best windows are mostly chance.

Content per tier: the ROI report per link (``build.build(..., "link")``), grouped by the
creator's tier and the link's content type (or, for a link that names none, the format of
the latest post carrying it): human clicks, orders, click orders, revenue, conversion rate,
earnings per click, all defined as in the ROI report.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.attribution.touches import within_lookback
from tracker.catalogue.creators import tier_for
from tracker.core import clock
from tracker.core.errors import BadRequest
from tracker.reports import build, roi
from tracker.reports.build import Params
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WINDOW_HOURS = 3
BEST = 3
MIN_CLICKS = 500  # below this a grid's windows are mostly noise: said with ``enough_data``
GROUPS = ("all", "platform", "creator")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadRequest(f"tz: not a time zone name: {str(name)[:64]!r}") from None


def hour_of_week(hour: str, tz: ZoneInfo) -> int:
    """'YYYY-MM-DDTHH' (UTC) -> 0..167 (Monday 00h = 0) in ``tz``."""
    local = datetime.fromisoformat(hour + ":00:00+00:00").astimezone(tz)
    return local.weekday() * 24 + local.hour


def occurrences(p: Params, tz: ZoneInfo) -> list[int]:
    """How many times each hour of the week occurs in the range (UTC days start..end)."""
    out = [0] * 168
    at = datetime.combine(p.start, datetime.min.time(), UTC)
    end = datetime.combine(p.end + timedelta(days=1), datetime.min.time(), UTC)
    while at < end:
        local = at.astimezone(tz)
        out[local.weekday() * 24 + local.hour] += 1
        at += timedelta(hours=1)
    return out


def best_windows(per_week: list[float], n: int = BEST, width: int = WINDOW_HOURS) -> list[int]:
    """Start hours of the ``n`` non-overlapping ``width``-hour windows with the largest sums
    (the week wraps around)."""
    sums = [(sum(per_week[(h + i) % 168] for i in range(width)), h) for h in range(168)]
    taken: set[int] = set()
    out: list[int] = []
    for total, h in sorted(sums, key=lambda x: (-x[0], x[1])):
        if total <= 0 or len(out) == n:
            break
        hours = {(h + i) % 168 for i in range(width)}
        if hours & taken:
            continue
        taken |= hours
        out.append(h)
    return out


def label(h: int, width: int = 1) -> str:
    end = (h + width) % 168
    return f"{DAYS[h // 24]} {h % 24:02d}:00-{DAYS[end // 24] + ' ' if end // 24 != h // 24 else ''}{end % 24:02d}:00"


def grid(
    clicks: list[float], conversions: list[float], revenue: list[float], occ: list[int]
) -> dict[str, Any]:
    per_week = [c / o if o else 0.0 for c, o in zip(clicks, occ, strict=True)]
    conv_week = [c / o if o else 0.0 for c, o in zip(conversions, occ, strict=True)]
    total = sum(clicks)
    mean = sum(per_week) / 168 if total else 0.0
    windows = []
    for h in best_windows(per_week):
        hours = [(h + i) % 168 for i in range(WINDOW_HOURS)]
        c = sum(clicks[x] for x in hours)
        conv = sum(conversions[x] for x in hours)
        windows.append(
            {
                "start_hour": h,
                "label": label(h, WINDOW_HOURS),
                "human_clicks_per_week": round(sum(per_week[x] for x in hours), 2),
                "share_of_clicks_pct": round(c / total * 100, 1) if total else None,
                "lift": round(sum(per_week[x] for x in hours) / (WINDOW_HOURS * mean), 2)
                if mean
                else None,
                "conversions": round(conv, 4),
                "conversion_rate": roi._pct(roi.ratio(conv, c)),
            }
        )
    return {
        "human_clicks": int(total),
        "enough_data": total >= MIN_CLICKS,
        "conversions": round(sum(conversions), 4),
        "revenue_minor": round(sum(revenue)),
        "hours": [
            {
                "hour": h,
                "label": label(h),
                "human_clicks": int(clicks[h]),
                "human_clicks_per_week": round(per_week[h], 3),
                "conversions": round(conversions[h], 4),
                "conversions_per_week": round(conv_week[h], 4),
                "revenue_minor": round(revenue[h]),
            }
            for h in range(168)
        ],
        "best_windows": windows,
    }


def _last_clicks(touches: list[Row], by: str, p: Params) -> list[tuple[str, Row]]:
    """(group key, the latest click touch of that group) per order."""
    out: dict[tuple[str, str], Row] = {}
    for t in touches:  # ordered by order, then time
        if not within_lookback(
            t["method"], t["at"], t["placed_at"], p.click_days, p.fingerprint_days
        ):
            continue
        key = "" if by == "all" else t["platform"] if by == "platform" else t["creator_id"]
        out[(t["order_id"], key)] = t
    return [(key, t) for (_, key), t in out.items()]


def clock_hours(start_at: str, end_at: str) -> list[tuple[str, str]]:
    """[start, end) cut at UTC clock hours: one (start, end) per hour, ISO instants."""
    out: list[tuple[str, str]] = []
    at = clock.parse(start_at).replace(minute=0, second=0, microsecond=0)
    while True:
        nxt = at + timedelta(hours=1)
        lo, hi = max(start_at, clock.to_iso(at)), min(end_at, clock.to_iso(nxt))
        if lo >= end_at:
            return out
        out.append((lo, hi))
        at = nxt


async def _click_keys(store: Store, by: str, creator_id: str | None) -> Callable[[str], str | None]:
    """The key a link's clicks count under now (None: left out): '' for all, the owner's
    platform, or the creator for one creator's own links."""
    owner = {r["id"]: r["creator_id"] for r in await store.links_meta()}
    if by == "platform":
        platform = {r["id"]: r["platform"] or "" for r in await store.creators_meta()}
        return lambda link: platform.get(owner.get(link) or "")
    if creator_id is not None:
        return lambda link: creator_id if owner.get(link) == creator_id else None
    return lambda link: ""


async def hours(
    store: Store, p: Params, by: str = "all", creator_id: str | None = None, tz_name: str = "UTC"
) -> dict[str, Any]:
    """Hour-of-week grids, one per key of ``by`` (all | platform | creator); ``creator_id``
    keeps one creator (and ``by`` becomes creator)."""
    if by not in GROUPS:
        raise BadRequest(f"by: one of {', '.join(GROUPS)}")
    if creator_id is not None:
        by = "creator"
    elif by == "creator":
        raise BadRequest("by=creator needs creator_id (one creator's grid)")
    tz = zone(tz_name)
    occ = occurrences(p, tz)
    how: dict[str, int] = {}

    def week_hour(hour: str) -> int:
        h = how.get(hour)
        if h is None:
            h = how[hour] = hour_of_week(hour, tz)
        return h

    clicks: dict[str, list[float]] = defaultdict(lambda: [0.0] * 168)
    conv: dict[str, list[float]] = defaultdict(lambda: [0.0] * 168)
    revenue: dict[str, list[float]] = defaultdict(lambda: [0.0] * 168)
    # every link counts under '' for all: the clicks per hour, not per (hour, link)
    per_link = by != "all"
    span = clock_hours(p.start_at, p.end_at)
    key_of, hourly, touches = await asyncio.gather(  # at once on PostgreSQL's pool
        _click_keys(store, by, creator_id),
        store.link_hour_clicks(span) if per_link else store.hour_clicks(span),
        store.click_conversions(p.start_at, p.end_at),
    )
    for r in hourly:
        key = key_of(r["link_id"]) if per_link else ""
        if key is not None:
            clicks[key][week_hour(r["hour"])] += int(r["human_clicks"])
    if creator_id is not None:
        touches = [t for t in touches if t["creator_id"] == creator_id]
    for key, t in _last_clicks(touches, by, p):
        h = week_hour(t["at"][:13])
        conv[key or ""][h] += 1
        revenue[key or ""][h] += (
            roi.convert(int(t["net_minor"]), t["currency"], p.currency, p.rates) or 0
        )
    keys = sorted(set(clicks) | set(conv))
    return {
        "by": by,
        "creator_id": creator_id,
        "tz": tz.key,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "currency": p.currency,
        "occurrences": occ,
        "groups": [{"key": k or None, **grid(clicks[k], conv[k], revenue[k], occ)} for k in keys],
    }


async def content(store: Store, settings: Settings, p: Params) -> dict[str, Any]:
    """Human clicks, orders, revenue and conversion per (tier, content type)."""
    report = await build.build(store, settings, p, "link", distinct=False)
    links = {r["id"]: r for r in await store.links_meta()}
    creators = {r["id"]: r for r in await store.creators_meta()}
    formats = {r["link_id"]: r["format"] for r in await store.link_formats()}  # latest wins
    keys = ("human_clicks", "orders", "click_orders", "revenue_minor")
    groups: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for row in report["rows"]:
        link = links.get(row["key"] or "")
        if link is None:
            continue  # code-only orders name no link: no content type
        creator = creators.get(link["creator_id"] or "")
        tier = tier_for(int(creator["followers"]), p.tiers) if creator else "(no creator)"
        kind = link["content_type"] or formats.get(link["id"]) or "(none)"
        g = groups[(tier, kind)]
        for k in keys:
            g[k] += row[k] or 0
    tier_order = {name: i for i, (name, _) in enumerate(p.tiers)}
    rows = []
    for (tier, kind), g in groups.items():
        d = roi.derive(dict(g))
        rows.append(
            {
                "tier": tier,
                "content_type": kind,
                "human_clicks": int(g["human_clicks"]),
                "orders": round(g["orders"], 4),
                "click_orders": int(g["click_orders"]),
                "revenue_minor": round(g["revenue_minor"]),
                "conversion_rate": d["conversion_rate"],
                "epc_minor": d["epc_minor"],
            }
        )
    rows.sort(key=lambda r: (tier_order.get(r["tier"], 99), -r["revenue_minor"], r["content_type"]))
    best: dict[str, str] = {}
    for r in rows:
        if r["human_clicks"] >= 100 and r["conversion_rate"] is not None:
            top = best.get(r["tier"])
            cur = next(
                (x for x in rows if x["tier"] == r["tier"] and x["content_type"] == top), None
            )
            if cur is None or r["conversion_rate"] > (cur["conversion_rate"] or 0):
                best[r["tier"]] = r["content_type"]
    return {
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "model": p.model,
        "currency": p.currency,
        "rows": rows,
        "best_converting": best,
        "min_clicks_for_best": 100,
    }
