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
from datetime import timedelta
from typing import Any

from tracker.attribution import datadriven
from tracker.attribution.collab import Collabs, expand
from tracker.attribution.credit import MODELS, ORDER_MODELS
from tracker.attribution.order_credit import VALUE_DAYS, Basis, credit_order, kept_touches
from tracker.attribution.order_credit import Credit as Credit  # re-exported for callers
from tracker.catalogue.creators import tier_for
from tracker.core.errors import BadRequest
from tracker.reports import paths, roi, stored, survey
from tracker.reports.params import CLICK_DIMENSIONS
from tracker.reports.params import Params as Params  # re-exported for callers
from tracker.reports.params import params_from as params_from  # re-exported for callers
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row

DIMENSIONS = (
    "creator",
    "tier",
    "campaign",
    "category",
    "platform",
    "link",
    "content_type",
    *CLICK_DIMENSIONS,
)
#: Dimensions without costs or posts of their own (a creator's fee is not a country's).
NO_COST = ("link", "content_type", *CLICK_DIMENSIONS)
COST_KINDS = ("fee", "product", "commission", "labor")
LTV_DAYS = VALUE_DAYS  # the 90-day customer value's window


@dataclass
class Facts:
    """Everything a report needs, read once from the store."""

    creators: dict[str, Row]
    links: dict[str, Row]
    campaigns: dict[str, Row]
    touches: list[Row]
    costs: list[Row]
    commission: list[Row]  # the ledger's sum per (creator, campaign, currency) of the orders
    posts: list[Row]
    unattributed: list[Row]
    collabs: Collabs = field(default_factory=Collabs)
    fit: datadriven.Fit | None = None  # the data-driven model, when it is the report's
    #: True: the stored credit gives the orders in the reporting currency, summed in SQL
    #: (``tracker.reports.stored``), and ``touches`` holds only the other orders' touches
    stored: bool = False
    scope: str | None = None  # a creator: only that creator's credit (``scoped``)

    @property
    def weights(self) -> dict[str, float] | None:
        return self.fit.weights if self.fit else None


async def load(store: Store, p: Params) -> Facts:
    stored = await stored_usable(store, p)
    touches = await store.credited_touches(
        p.start_at, p.end_at, unstored=p.currency if stored else None, several=several(p)
    )
    facts = Facts(
        creators={r["id"]: r for r in await store.creators_meta()},
        links={r["id"]: r for r in await store.links_meta()},
        campaigns={r["id"]: r for r in await store.campaigns_meta()},
        touches=touches,
        costs=await store.costs_between(
            p.start.isoformat(), (p.end + timedelta(days=1)).isoformat()
        ),
        commission=await store.ledger_commission(p.start_at, p.end_at),
        posts=await store.posts_between(p.start_at, p.end_at),
        unattributed=await store.unattributed_orders(p.start_at, p.end_at),
        collabs=Collabs.of_rows(await store.list_collabs()),
        stored=stored,
    )
    if stored and (facts.collabs.by_link or facts.collabs.by_code):  # split at read time
        facts.stored = False
        facts.touches = await store.credited_touches(p.start_at, p.end_at)
    if p.survey_credit == "unattributed":
        await survey.add_survey_touches(store, p, facts)
    if p.model == "data_driven":
        facts.fit = await paths.fit(store, p, facts.touches, facts.stored)
    return facts


async def data_driven_fit(store: Store, p: Params) -> tuple[datadriven.Fit, dict[str, Row]]:
    """The data-driven model of ``p``'s range (as ``load`` fits it) and the creators, for the
    pages that show the fit alone: the converting paths read from the touches' path columns
    (``Store.path_touches``; the single-touch orders' from the stored credit, as ``load``
    does), none of a report's other facts. With survey credit, survey touches join the
    paths: then from ``load`` itself."""
    p = replace(p, model="data_driven")
    if p.survey_credit == "unattributed":
        facts = await load(store, p)
        assert facts.fit is not None
        return facts.fit, facts.creators
    stored = await stored_usable(store, p)
    touches = await store.path_touches(p.start_at, p.end_at, p.currency if stored else None)
    creators = {r["id"]: r for r in await store.creators_meta()}
    return await paths.fit(store, p, touches, stored), creators


async def stored_usable(store: Store, p: Params) -> bool:
    """Whether the stored credit (``tracker/store/credits.py``) gives this report's figures:
    the model is one the ingest stores and the rows were computed under this report's
    lookbacks, half-life and policy. Otherwise every credit is computed from the touches.
    The data-driven model's are its orders with one kept touch (every model gives that
    touch the whole order: the stored rows of model 'all'); the others' are computed
    (``several``)."""
    if p.model not in MODELS or p.survey_credit == "unattributed":
        return False
    return await store.stored_basis() == basis_of(p).text


def several(p: Params) -> bool:
    """Whether the report computes the orders stored with several kept touches (the
    data-driven model: its weights come from the range's paths, never stored)."""
    return p.model not in ORDER_MODELS


async def all_credits(store: Store, facts: Facts, p: Params) -> tuple[list[Credit], set[str]]:
    """Every credit of the range, one object per (order, touch): the stored rows read back
    and the rest computed (for callers that need each order's credit, not sums)."""
    computed, missing = order_credits(facts.touches, p, facts)
    if not facts.stored:
        return computed, missing
    return expand(await stored.read(store, p, facts.scope) + computed, facts.collabs), missing


def basis_of(p: Params) -> Basis:
    return Basis(p.click_days, p.fingerprint_days, p.half_life_days, p.policy)


def order_credits(
    touches: list[Row], p: Params, facts: Facts | None = None
) -> tuple[list[Credit], set[str]]:
    """Apply the model to each order's touches; return credits and unconverted currencies.

    An order's net revenue is converted and rounded once, then split over its touches with
    ``credit.split`` (``attribution.order_credit``: the rule the ingest stores too) so the
    shares of every order add up to it exactly; a touch through a collaboration is then
    split over its members (``collab.expand``), exactly too."""
    by_order: dict[str, list[Row]] = defaultdict(list)
    for t in touches:
        by_order[t["order_id"]].append(t)
    out: list[Credit] = []
    missing: set[str] = set()
    basis = basis_of(p)
    weights = facts.weights if facts else None
    for rows in by_order.values():
        kept = kept_touches(rows, basis)
        if not kept:
            continue
        net = roi.convert(int(rows[0]["net_minor"]), rows[0]["currency"], p.currency, p.rates)
        if net is None:
            missing.add(rows[0]["currency"])
            continue
        out += credit_order(kept, p.model, round(net), p.half_life_days, weights)
    if facts is None:
        return out, missing
    out = expand(out, facts.collabs)
    return [c for c in out if c.creator_id == facts.scope] if facts.scope else out, missing


def _key(
    dimension: str,
    creator: Row | None,
    campaign_id: str | None,
    link_id: str | None,
    links: dict[str, Row],
    tiers: tuple[tuple[str, int], ...],
    credit: Credit | None = None,
) -> str | None:
    if dimension in CLICK_DIMENSIONS:
        return getattr(credit, dimension) if credit is not None else None
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


def _totals(
    rows: dict[str | None, dict[str, Any]],
    reached: dict[tuple[str, Any], bool],
    also: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """The rows summed; an order reached through two creators' clicks counts once
    (``also``: the stored credit's orders reached, and through a click, each once)."""
    summed = _sum(rows.values())
    by_order: dict[str, bool] = {}
    for (order_id, _), via_click in reached.items():
        by_order[order_id] = by_order.get(order_id, False) or via_click
    summed["click_orders"] = sum(by_order.values()) + also[1]
    summed["code_only_orders"] = len(by_order) + also[0] - summed["click_orders"]
    return summed


async def build(
    store: Store,
    settings: Settings,
    p: Params,
    dimension: str,
    *,
    distinct: bool = True,
    unique_clicks: bool = True,
    facts: Facts | None = None,
    clicks: bool = True,
    reach: bool = True,
) -> dict[str, Any]:
    """``distinct=False``: unique clicks and visitors are left at 0 (cheap, for summaries
    that do not show them); ``unique_clicks=False``: only unique clicks are (the panel's ROI
    table shows unique visitors alone); ``facts``: reuse what these params loaded;
    ``clicks=False``: no click read at all (every click count 0), for money-only views;
    ``reach=False``: click and code-only orders and the 90-day value are left at 0 (three
    fewer reads of the stored credit, for views that show none: the creator's own page)."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"dimension: one of {', '.join(DIMENSIONS)}")
    facts = facts or await load(store, p)
    # with facts.stored: the orders the stored credit does not give (summed in SQL below)
    credits_, missing = order_credits(facts.touches, p, facts)
    credits_ = [c for c in credits_ if p.keeps(c)]
    rows: dict[str | None, dict[str, Any]] = defaultdict(_empty)
    click_rows = (
        await _click_facts(store, dimension, p, facts, distinct, unique_clicks) if clicks else []
    )
    for c in click_rows:
        row = rows[c["key"] if c["key"] != "" else None]  # "" and NULL: one "(none)" row
        for k in ("clicks", "human_clicks", "unique_clicks", "unique_visitors"):
            row[k] += c[k]
    reached = _add_credits(rows, credits_, dimension, facts, p, reach)
    also = (0, 0)
    if facts.stored:
        also = await stored.add_sums(store, rows, dimension, p, facts.scope, reach=reach)
    _add_costs(rows, missing, dimension, facts, p)
    _add_posts(rows, dimension, facts, p)
    if reach:
        await _customer_value(store, credits_, rows, dimension, facts, p)
    # unattributed orders without a rate are left out of the unattributed revenue: say so
    missing |= {o["currency"] for o in facts.unattributed if o["currency"] not in p.rates}
    missing.discard(p.currency)
    out = [_finish(key, row, dimension, facts, p) for key, row in rows.items()]
    out.sort(key=lambda r: (-(r["revenue_minor"] or 0), str(r["label"])))
    summed = _totals(rows, reached, also)
    return {
        "dimension": dimension,
        "model": p.model,
        "currency": p.currency,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "lookback": {"click_days": p.click_days, "fingerprint_days": p.fingerprint_days},
        "rows": out,
        "totals": _finish("total", summed, dimension, facts, p, total=True),
        "unconverted_currencies": sorted(missing),
        "unattributed": _unattributed(facts, p),
        **({"data_driven": paths.describe(facts.fit, _labels(facts))} if facts.fit else {}),
    }


async def _click_facts(
    store: Store,
    dimension: str,
    p: Params,
    facts: Facts,
    distinct: bool,
    unique_clicks: bool = True,
    daily: bool = False,
) -> list[Row]:
    """The range's click facts under the report's filters (a creator's own, scoped)."""
    return await store.click_facts(
        dimension,
        *p.click_span,
        daily=daily,
        distinct=distinct,
        unique_clicks=unique_clicks,
        where=p.where,
        creator_id=facts.scope,
    )


def _labels(facts: Facts) -> dict[str, str]:
    return {k: str(v.get("handle", k)) for k, v in facts.creators.items()}


def _add_credits(
    rows: dict[str | None, dict[str, Any]],
    credits_: list[Credit],
    dimension: str,
    facts: Facts,
    p: Params,
    reach: bool = True,
) -> dict[tuple[str, str | None], bool]:
    """Orders, revenue and new customers per row; returns, per (order, row key)
    of a counted order, whether a click id or fingerprint touch of that row reached it
    (and adds it to the row's ``click_orders`` or ``code_only_orders``; ``reach=False``:
    neither, and returns nothing)."""
    reached: dict[tuple[str, str | None], bool] = {}
    for cr in credits_:
        creator = facts.creators.get(cr.creator_id)
        key = _key(dimension, creator, cr.campaign_id, cr.link_id, facts.links, p.tiers, cr)
        row = rows[key]
        if cr.counted:
            row["orders"] += cr.share
            row["new_customers"] += cr.share if cr.new_customer else 0.0
            reached[(cr.order_id, key)] = reached.get((cr.order_id, key), False) or cr.via_click
        row["revenue_minor"] += cr.revenue
        row["collab_revenue_minor"] += cr.revenue if cr.collab_id else 0
    if not reach:
        return {}
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
    """Fee, product and labor costs dated in the period; commission from the ledger: what it
    owes on the period's orders now (each (creator, campaign, currency) sum converted and
    rounded once, so rows add up exactly). A ``kind=commission`` cost is a ledger rule
    (``tracker/commissions/terms.py``), never counted a second time here."""
    if dimension in NO_COST:
        return  # links, content types, countries and variants carry no cost of their own
    owed = [{**c, "kind": "commission"} for c in facts.commission]
    for cost in [c for c in facts.costs if c["kind"] != "commission"] + owed:
        amount = roi.convert(int(cost["amount_minor"]), cost["currency"], p.currency, p.rates)
        if amount is None:
            missing.add(cost["currency"])
            continue
        amount = round(amount) if cost["kind"] == "commission" else amount
        creator = facts.creators.get(cost["creator_id"])
        row = rows[_key(dimension, creator, cost["campaign_id"], None, facts.links, p.tiers)]
        row[f"cost_{cost['kind']}_minor"] += amount
        row["cost_minor"] += amount


def _add_posts(
    rows: dict[str | None, dict[str, Any]], dimension: str, facts: Facts, p: Params
) -> None:
    if dimension in (*NO_COST, "campaign"):
        return
    for post in facts.posts:
        creator = facts.creators.get(post["creator_id"])
        row = rows[_key(dimension, creator, post["campaign_id"], None, facts.links, p.tiers)]
        row["posts"] += 1
        row["engagements"] += post["likes"] + post["comments"] + post["shares"]
        row["followers_reached"] += post["followers_at_post"] or (creator or {}).get("followers", 0)


async def _customer_value(
    store: Store,
    credits_: list[Credit],
    rows: dict[str | None, dict[str, Any]],
    dimension: str,
    facts: Facts,
    p: Params,
) -> None:
    """90-day value: later orders of the customers a creator acquired, credited by share
    (the net revenue of the customer's orders placed after the acquiring order, within
    ``LTV_DAYS`` of it; ``store.later_values``)."""
    acquired = [c for c in credits_ if c.new_customer and c.customer_hash]
    if not acquired:
        return
    later: dict[str, float] = defaultdict(float)
    for v in await store.later_values(p.start_at, p.end_at, LTV_DAYS):
        later[v["order_id"]] += (
            roi.convert(int(v["net_minor"]), v["currency"], p.currency, p.rates) or 0
        )
    for c in acquired:
        creator = facts.creators.get(c.creator_id)
        rows[_key(dimension, creator, c.campaign_id, c.link_id, facts.links, p.tiers, c)][
            "value_90d_minor"
        ] += later.get(c.order_id, 0.0) * c.share


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
    key: str | None,
    row: dict[str, Any],
    dimension: str,
    facts: Facts,
    p: Params,
    *,
    total: bool = False,
) -> dict[str, Any]:
    """A row (``total``: the totals row of ``dimension``'s report) with its derived
    metrics; a dimension without costs has none in its rows and none in its total."""
    money = {k: round(v) for k, v in row.items() if k.endswith("_minor")}
    out = roi.derive({**row, **money})
    out.update(key=key, label="Total" if total else _label(key, dimension, facts))
    if not total and dimension == "creator" and key in facts.creators:
        creator = facts.creators[key]
        out.update(
            tier=tier_for(int(creator["followers"]), p.tiers),
            platform=creator["platform"],
            category=creator["category"],
            followers=creator["followers"],
        )
    if dimension in NO_COST:
        for k in ("cost_minor", "cpa_minor", "roas", "roi_pct", "band"):
            out[k] = None  # a link has no cost of its own, nor do all of them together
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
    orders: bool = True,
    facts: Facts | None = None,
) -> list[dict[str, Any]]:
    """Daily clicks, orders and revenue for one key of a dimension (or everything).

    ``clicks=False`` leaves the click columns at 0 without reading clicks (a caller that
    charts only orders and revenue), ``orders=False`` the order and revenue columns without
    reading the credit (one that charts only clicks); ``facts`` reuses an earlier ``load``
    of these params."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"dimension: one of {', '.join(DIMENSIONS)}")
    facts = facts or await load(store, p)
    days: dict[str, dict[str, float]] = {}
    d = p.start
    while d <= p.end:
        days[d.isoformat()] = {"clicks": 0, "human_clicks": 0, "orders": 0.0, "revenue_minor": 0.0}
        d += timedelta(days=1)
    click_rows = await _click_facts(store, dimension, p, facts, False, daily=True) if clicks else []
    for c in click_rows:
        if key is None or c["key"] == key:
            days[c["day"]]["clicks"] += c["clicks"]
            days[c["day"]]["human_clicks"] += c["human_clicks"]
    credits_, _ = order_credits(facts.touches, p, facts) if orders else ([], set())
    if facts.stored and orders:
        await stored.add_daily(store, days, dimension, key, p, facts.scope)
    for cr in credits_:
        creator = facts.creators.get(cr.creator_id)
        if p.keeps(cr) and (
            key is None
            or _key(dimension, creator, cr.campaign_id, cr.link_id, facts.links, p.tiers, cr) == key
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
