"""Reports: creator ROI tables and their roll-ups, computed at read time.

``build(store, settings, params)`` reads facts from the store (click counts per dimension,
credited touches, costs, posts), applies the chosen attribution model per order
(``tracker.attribution.credit``), converts money into the reporting currency, and returns
rows whose derived metrics come from ``tracker.roi``. The API, the CSV export and the admin
panel all call this one function, so they always show the same numbers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.attribution import datadriven
from tracker.attribution.collab import Collabs, expand
from tracker.attribution.credit import MODELS, Credited, credits, split
from tracker.attribution.rules import best_of
from tracker.attribution.touches import within_lookback
from tracker.catalogue.creators import tier_for
from tracker.core import clock
from tracker.core.errors import BadRequest
from tracker.reports import paths, roi, survey
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row

DIMENSIONS = ("creator", "tier", "campaign", "category", "platform", "link", "content_type")
COST_KINDS = ("fee", "product", "commission", "labor")
COUPON_SITES = (
    "retailmenot",
    "honey",
    "joinhoney",
    "coupons.com",
    "couponfollow",
    "dealspotr",
    "slickdeals",
    "groupon",
    "wethrift",
    "knoji",
    "couponcabin",
    "capitaloneshopping",
    "rakuten",
    "couponbirds",
    "promocodes",
    "vouchercodes",
    "savings.com",
)
LTV_DAYS = 90


@dataclass(frozen=True)
class Params:
    start: date
    end: date  # inclusive
    model: str
    half_life_days: float
    click_days: int
    fingerprint_days: int
    currency: str
    rates: dict[str, float] = field(default_factory=dict)
    tiers: tuple[tuple[str, int], ...] = ()
    policy: str = "code"  # TRACKER_CONFLICT_POLICY, for the winner fallback
    min_conversions: int = 300  # TRACKER_DATA_DRIVEN_MIN_CONVERSIONS
    survey_credit: str = "off"  # TRACKER_SURVEY_CREDIT
    survey_min_score: int = 85

    @property
    def start_at(self) -> str:
        return f"{self.start.isoformat()}T00:00:00.000000Z"

    @property
    def end_at(self) -> str:
        return f"{(self.end + timedelta(days=1)).isoformat()}T00:00:00.000000Z"


def params_from(query: dict[str, str], settings: Settings) -> Params:
    """Query string -> Params, with the settings' defaults; BadRequest with a reason."""
    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(query["end"]) if query.get("end") else today
        start = (
            date.fromisoformat(query["start"]) if query.get("start") else end - timedelta(days=29)
        )
        half = float(query.get("half_life_days") or settings.half_life_days)
        click_days = int(query.get("click_days") or settings.lookback_click_days)
        fp_days = int(query.get("fingerprint_days") or settings.lookback_fingerprint_days)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"bad report parameter: {exc}") from None
    model = query.get("model") or settings.attribution_model
    if model not in MODELS:
        raise BadRequest(f"model: one of {', '.join(MODELS)}")
    if start < clock.MIN_DATE or end >= clock.MAX_DATE:
        raise BadRequest(f"start and end must be {clock.RANGE_TEXT}")
    if start > end or (end - start).days > 3660:
        raise BadRequest("start must be on or before end, at most 10 years apart")
    if not (0 < half <= 365 and 0 <= click_days <= 365 and 0 <= fp_days <= 365):
        raise BadRequest("half_life_days 1..365, click_days and fingerprint_days 0..365")
    return Params(
        start,
        end,
        model,
        half,
        click_days,
        fp_days,
        settings.reporting_currency,
        settings.fx_rates,
        settings.tiers,
        settings.conflict_policy,
        settings.data_driven_min_conversions,
        settings.survey_credit,
        settings.survey_min_score,
    )


@dataclass
class Facts:
    """Everything a report needs, read once from the store."""

    creators: dict[str, Row]
    links: dict[str, Row]
    campaigns: dict[str, Row]
    touches: list[Row]
    costs: list[Row]
    commission: list[Row]
    posts: list[Row]
    unattributed: list[Row]
    collabs: Collabs = field(default_factory=Collabs)
    fit: datadriven.Fit | None = None  # the data-driven model, when it is the report's

    @property
    def weights(self) -> dict[str, float] | None:
        return self.fit.weights if self.fit else None


async def load(store: Store, p: Params) -> Facts:
    touches = await store.credited_touches(p.start_at, p.end_at)
    facts = Facts(
        creators={r["id"]: r for r in await store.creators_meta()},
        links={r["id"]: r for r in await store.links_meta()},
        campaigns={r["id"]: r for r in await store.campaigns_meta()},
        touches=touches,
        costs=await store.costs_between(
            p.start.isoformat(), (p.end + timedelta(days=1)).isoformat()
        ),
        commission=await store.commission_rates(),
        posts=await store.posts_between(p.start_at, p.end_at),
        unattributed=await store.unattributed_orders(p.start_at, p.end_at),
        collabs=Collabs.of_rows(await store.list_collabs()),
    )
    if p.survey_credit == "unattributed":
        await survey.add_survey_touches(store, p, facts)
    if p.model == "data_driven":
        facts.fit = await paths.fit(store, p, facts.touches)
    return facts


@dataclass
class Credit:
    """One touch's share of one order (share 0: a touch this model gives nothing)."""

    order_id: str
    creator_id: str
    campaign_id: str | None
    link_id: str | None
    share: float
    revenue: int  # reporting currency minor units: the order's net split by largest remainder
    new_customer: bool
    customer_hash: str | None
    placed_at: str
    counted: bool  # the order counts as an order (not cancelled, not fully refunded)
    via_click: bool  # this touch is a click id or a fingerprint match
    method: str = "code"
    code: str | None = None
    collab_id: str | None = None  # split from a collaboration's link or code


def order_credits(
    touches: list[Row], p: Params, facts: Facts | None = None
) -> tuple[list[Credit], set[str]]:
    """Apply the model to each order's touches; return credits and unconverted currencies.

    An order's net revenue is converted and rounded once, then split over its touches with
    ``credit.split`` so the shares of every order add up to it exactly; a touch through a
    collaboration is then split over its members (``collab.expand``), exactly too."""
    by_order: dict[str, list[Row]] = defaultdict(list)
    for t in touches:
        by_order[t["order_id"]].append(t)
    out: list[Credit] = []
    missing: set[str] = set()
    for order_id, rows in by_order.items():
        placed = rows[0]["placed_at"]
        kept = [
            r
            for r in rows
            if within_lookback(r["method"], r["at"], placed, p.click_days, p.fingerprint_days)
        ]
        if not kept:
            continue
        if not any(r["winner"] for r in kept):  # the stored winner fell out of this lookback
            best = best_of(kept, p.policy, lambda r: (r["method"], r["at"]))
            kept = [{**r, "winner": int(r is best)} for r in kept]
        net = roi.convert(int(rows[0]["net_minor"]), rows[0]["currency"], p.currency, p.rates)
        if net is None:
            missing.add(rows[0]["currency"])
            continue
        shares = credits(
            [_credited(r) for r in kept],
            p.model,
            placed,
            p.half_life_days,
            facts.weights if facts else None,
        )
        amounts = split(round(net), shares)
        counted = bool(rows[0].get("counted", 1))
        for r, share, amount in zip(kept, shares, amounts, strict=True):
            out.append(
                Credit(
                    order_id,
                    r["creator_id"],
                    r["campaign_id"],
                    r["link_id"],
                    share,
                    amount,
                    bool(r["new_customer"]),
                    r["customer_hash"],
                    placed,
                    counted,
                    r["method"] in ("click", "fingerprint"),
                    r["method"],
                    r.get("code"),
                )
            )
    return (expand(out, facts.collabs) if facts else out), missing


def _credited(r: Row) -> Credited:
    return Credited(
        r["creator_id"], r["at"], bool(r["winner"]), r["campaign_id"], r["link_id"], r["method"]
    )


def _key(
    dimension: str,
    creator: Row | None,
    campaign_id: str | None,
    link_id: str | None,
    links: dict[str, Row],
    tiers: tuple[tuple[str, int], ...],
) -> str | None:
    if dimension == "creator":
        return creator["id"] if creator else None
    if dimension == "campaign":
        return campaign_id
    if dimension == "link":
        return link_id
    if dimension == "content_type":
        return (links.get(link_id or "") or {}).get("content_type") or None
    if creator is None:
        return None
    if dimension == "tier":
        return tier_for(int(creator["followers"]), tiers)
    return creator.get(dimension) or None


def _empty() -> dict[str, Any]:
    return {
        "clicks": 0,
        "human_clicks": 0,
        "unique_clicks": 0,
        "unique_visitors": 0,
        "orders": 0.0,
        "click_orders": 0,
        "code_only_orders": 0,
        "revenue_minor": 0,
        "collab_revenue_minor": 0,
        "new_customers": 0.0,
        "cost_minor": 0.0,
        **{f"cost_{k}_minor": 0.0 for k in COST_KINDS},
        "engagements": 0,
        "followers_reached": 0,
        "posts": 0,
        "value_90d_minor": 0.0,
    }


async def build(
    store: Store,
    settings: Settings,
    p: Params,
    dimension: str,
    *,
    distinct: bool = True,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """``distinct=False``: unique clicks and visitors are left at 0 (cheap, for summaries
    that do not show them); ``facts``: reuse what a caller already loaded for these params."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"dimension: one of {', '.join(DIMENSIONS)}")
    facts = facts or await load(store, p)
    credits_, missing = order_credits(facts.touches, p, facts)
    rows: dict[str | None, dict[str, Any]] = defaultdict(_empty)
    for c in await store.click_facts(dimension, p.start_at, p.end_at, p.tiers, distinct=distinct):
        row = rows[c["key"] if c["key"] != "" else None]  # "" and NULL: one "(none)" row
        for k in ("clicks", "human_clicks", "unique_clicks", "unique_visitors"):
            row[k] += c[k]
    reached = _add_credits(rows, credits_, dimension, facts, p)
    _add_costs(rows, missing, dimension, facts, p)
    _add_posts(rows, dimension, facts, p)
    await _customer_value(store, credits_, rows, dimension, facts, p)
    # unattributed orders without a rate are left out of the unattributed revenue: say so
    missing |= {o["currency"] for o in facts.unattributed if o["currency"] not in p.rates}
    missing.discard(p.currency)
    out = [_finish(key, row, dimension, facts, p) for key, row in rows.items()]
    out.sort(key=lambda r: (-(r["revenue_minor"] or 0), str(r["label"])))
    summed = _sum(rows.values())
    # An order reached through two creators' clicks counts once in the totals.
    by_order: dict[str, bool] = {}
    for (order_id, _), via_click in reached.items():
        by_order[order_id] = by_order.get(order_id, False) or via_click
    summed["click_orders"] = sum(by_order.values())
    summed["code_only_orders"] = len(by_order) - summed["click_orders"]
    return {
        "dimension": dimension,
        "model": p.model,
        "currency": p.currency,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "lookback": {"click_days": p.click_days, "fingerprint_days": p.fingerprint_days},
        "rows": out,
        "totals": _finish("total", summed, "total", facts, p),
        "unconverted_currencies": sorted(missing),
        "unattributed": _unattributed(facts, p),
        **({"data_driven": paths.describe(facts.fit, _labels(facts))} if facts.fit else {}),
    }


def _labels(facts: Facts) -> dict[str, str]:
    return {k: str(v.get("handle", k)) for k, v in facts.creators.items()}


def _add_credits(
    rows: dict[str | None, dict[str, Any]],
    credits_: list[Credit],
    dimension: str,
    facts: Facts,
    p: Params,
) -> dict[tuple[str, str | None], bool]:
    """Orders, revenue, new customers and commission per row; returns, per (order, row key)
    of a counted order, whether a click id or fingerprint touch of that row reached it
    (and adds it to the row's ``click_orders`` or ``code_only_orders``)."""
    rates = _commission_lookup(facts.commission)
    reached: dict[tuple[str, str | None], bool] = {}
    for cr in credits_:
        creator = facts.creators.get(cr.creator_id)
        key = _key(dimension, creator, cr.campaign_id, cr.link_id, facts.links, p.tiers)
        row = rows[key]
        if cr.counted:
            row["orders"] += cr.share
            row["new_customers"] += cr.share if cr.new_customer else 0.0
            reached[(cr.order_id, key)] = reached.get((cr.order_id, key), False) or cr.via_click
        row["revenue_minor"] += cr.revenue
        row["collab_revenue_minor"] += cr.revenue if cr.collab_id else 0
        rate = rates.get((cr.creator_id, cr.campaign_id)) or rates.get((cr.creator_id, None))
        if rate:
            commission = cr.revenue * rate / 10_000
            row["cost_commission_minor"] += commission
            row["cost_minor"] += commission
    for (_, key), via_click in reached.items():
        rows[key]["click_orders" if via_click else "code_only_orders"] += 1
    return reached


def _add_costs(
    rows: dict[str | None, dict[str, Any]],
    missing: set[str],
    dimension: str,
    facts: Facts,
    p: Params,
) -> None:
    for cost in facts.costs:
        if cost["kind"] == "commission" or dimension in ("link", "content_type"):
            continue  # commissions come from revenue above; links carry no cost of their own
        amount = roi.convert(int(cost["amount_minor"]), cost["currency"], p.currency, p.rates)
        if amount is None:
            missing.add(cost["currency"])
            continue
        creator = facts.creators.get(cost["creator_id"])
        row = rows[_key(dimension, creator, cost["campaign_id"], None, facts.links, p.tiers)]
        row[f"cost_{cost['kind']}_minor"] += amount
        row["cost_minor"] += amount


def _add_posts(
    rows: dict[str | None, dict[str, Any]], dimension: str, facts: Facts, p: Params
) -> None:
    if dimension in ("link", "content_type", "campaign"):
        return
    for post in facts.posts:
        creator = facts.creators.get(post["creator_id"])
        row = rows[_key(dimension, creator, post["campaign_id"], None, facts.links, p.tiers)]
        row["posts"] += 1
        row["engagements"] += post["likes"] + post["comments"] + post["shares"]
        row["followers_reached"] += post["followers_at_post"] or (creator or {}).get("followers", 0)


def _commission_lookup(rows: list[Row]) -> dict[tuple[str, str | None], int]:
    """Latest commission rate (basis points) per creator and per (creator, campaign)."""
    out: dict[tuple[str, str | None], int] = {}
    for r in rows:  # ordered by date: later rows win
        out[(r["creator_id"], r["campaign_id"])] = int(r["rate_bp"] or 0)
    return out


async def _customer_value(
    store: Store,
    credits_: list[Credit],
    rows: dict[str | None, dict[str, Any]],
    dimension: str,
    facts: Facts,
    p: Params,
) -> None:
    """90-day value: later orders of the customers a creator acquired, credited by share."""
    acquired = [c for c in credits_ if c.new_customer and c.customer_hash]
    if not acquired:
        return
    hashes = sorted({c.customer_hash for c in acquired if c.customer_hash})
    later = await store.orders_of_customers(
        hashes, p.start_at, clock.shift(p.end_at, timedelta(days=LTV_DAYS))
    )
    by_customer: dict[str, list[Row]] = defaultdict(list)
    for o in later:
        by_customer[o["customer_hash"]].append(o)
    for c in acquired:
        horizon = clock.shift(c.placed_at, timedelta(days=LTV_DAYS))
        value = 0.0
        for o in by_customer.get(c.customer_hash or "", []):
            if c.placed_at < o["placed_at"] <= horizon:
                value += roi.convert(int(o["net_minor"]), o["currency"], p.currency, p.rates) or 0
        creator = facts.creators.get(c.creator_id)
        rows[_key(dimension, creator, c.campaign_id, c.link_id, facts.links, p.tiers)][
            "value_90d_minor"
        ] += value * c.share


def _sum(rows: Any) -> dict[str, Any]:
    total = _empty()
    for row in rows:
        for k, v in row.items():
            total[k] += v
    return total


def _label(key: str | None, dimension: str, facts: Facts) -> str:
    if key is None:
        return "(none)"
    if dimension == "creator":
        return str(facts.creators.get(key, {}).get("handle", key))
    if dimension == "campaign":
        return str(facts.campaigns.get(key, {}).get("name", key))
    if dimension == "link":
        return "/" + str(facts.links.get(key, {}).get("slug", key))
    return key


def _finish(
    key: str | None, row: dict[str, Any], dimension: str, facts: Facts, p: Params
) -> dict[str, Any]:
    money = {k: round(v) for k, v in row.items() if k.endswith("_minor")}
    out = roi.derive({**row, **money})
    out.update(key=key, label="Total" if dimension == "total" else _label(key, dimension, facts))
    if dimension == "creator" and key in facts.creators:
        creator = facts.creators[key]
        out.update(
            tier=tier_for(int(creator["followers"]), p.tiers),
            platform=creator["platform"],
            category=creator["category"],
            followers=creator["followers"],
        )
    if dimension in ("link", "content_type"):
        for k in ("cost_minor", "cpa_minor", "roas", "roi_pct", "band"):
            out[k] = None  # a link has no cost of its own
    return out


def _unattributed(facts: Facts, p: Params) -> dict[str, Any]:
    revenue = 0.0
    for o in facts.unattributed:
        revenue += roi.convert(int(o["net_minor"]), o["currency"], p.currency, p.rates) or 0
    return {
        "orders": len(facts.unattributed),
        "revenue_minor": round(revenue),
        "with_unknown_code": sum(1 for o in facts.unattributed if json.loads(o["codes"])),
        "with_unknown_click_id": sum(1 for o in facts.unattributed if json.loads(o["click_ids"])),
    }


async def daily(
    store: Store,
    settings: Settings,
    p: Params,
    dimension: str,
    key: str | None,
    *,
    clicks: bool = True,
    facts: Facts | None = None,
) -> list[dict[str, Any]]:
    """Daily clicks, orders and revenue for one key of a dimension (or everything).

    ``clicks=False`` leaves the click columns at 0 without reading clicks (a caller that
    charts only orders and revenue); ``facts`` reuses an earlier ``load`` of these params."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"dimension: one of {', '.join(DIMENSIONS)}")
    facts = facts or await load(store, p)
    days: dict[str, dict[str, float]] = {}
    d = p.start
    while d <= p.end:
        days[d.isoformat()] = {"clicks": 0, "human_clicks": 0, "orders": 0.0, "revenue_minor": 0.0}
        d += timedelta(days=1)
    click_rows = (
        await store.click_facts(
            dimension, p.start_at, p.end_at, p.tiers, daily=True, distinct=False
        )
        if clicks
        else []
    )
    for c in click_rows:
        if key is None or c["key"] == key:
            days[c["day"]]["clicks"] += c["clicks"]
            days[c["day"]]["human_clicks"] += c["human_clicks"]
    credits_, _ = order_credits(facts.touches, p, facts)
    for cr in credits_:
        creator = facts.creators.get(cr.creator_id)
        if (
            key is None
            or _key(dimension, creator, cr.campaign_id, cr.link_id, facts.links, p.tiers) == key
        ):
            day = cr.placed_at[:10]
            if day in days:
                days[day]["orders"] += cr.share if cr.counted else 0.0
                days[day]["revenue_minor"] += cr.revenue
    return [
        {
            "day": k,
            "clicks": int(v["clicks"]),
            "human_clicks": int(v["human_clicks"]),
            "orders": round(v["orders"], 4),
            "revenue_minor": round(v["revenue_minor"]),
        }
        for k, v in days.items()
    ]


def with_model(p: Params, model: str) -> Params:
    return replace(p, model=model)


#: The columns of every report's CSV (API, panel, CLI): the rows, then the totals.
CSV_COLUMNS = (
    "label",
    "clicks",
    "human_clicks",
    "unique_clicks",
    "unique_visitors",
    "orders",
    "click_orders",
    "code_only_orders",
    "revenue_minor",
    "collab_revenue_minor",
    "new_customers",
    "conversion_rate",
    "aov_minor",
    "epc_minor",
    "cost_minor",
    "cost_fee_minor",
    "cost_product_minor",
    "cost_commission_minor",
    "cost_labor_minor",
    "cpa_minor",
    "roas",
    "roi_pct",
    "band",
    "engagement_rate",
    "value_90d_minor",
)


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [[r.get(c) for c in CSV_COLUMNS] for r in [*report["rows"], report["totals"]]]
