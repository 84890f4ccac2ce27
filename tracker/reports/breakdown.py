"""Click breakdowns: a portfolio's, creator's, campaign's or link's clicks of a date range
per device, OS, browser or referrer host (``GET /api/v1/reports/breakdown``, its CSV, the
panel's Audience page).

The figures are the reports' (README "ROI reports"): clicks (bots and previewers
included), human clicks, unique clicks and unique visitors, a visitor counted once per day,
link and value; read by ``Store.click_facts`` from the breakdown roll-up for sealed days
and from the raw clicks for the rest (``tracker/store/reports.py``). A click with no value
(no referrer, an empty user agent's OS or browser) is the key None, shown "(none)"; the
rows are sorted by human clicks, the totals are their sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.core.errors import BadRequest
from tracker.reports.params import CLICK_DIMENSIONS, Params, params_from
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.rollups import BREAKDOWNS, FIGURES

#: ``?by=``: the dimensions a breakdown is by.
BY = tuple(BREAKDOWNS)
#: The label of the clicks with no value.
NONE_LABEL = "(none)"
#: The CSV's columns: the rows, then the totals (label "Total").
CSV_COLUMNS = ("by", "key", "label", *FIGURES, "human_share_pct")


@dataclass(frozen=True)
class Breakdown:
    """A breakdown's question: by what, when (``params``), whose clicks (ids, resolved)."""

    by: str
    params: Params
    creator_id: str | None = None
    campaign_id: str | None = None

    @property
    def link_id(self) -> str | None:
        return dict(self.params.where).get("link_id")


async def breakdown_from(store: Store, settings: Settings, query: dict[str, str]) -> Breakdown:
    """Query string -> Breakdown: the reports' dates and ``link_id`` (``params_from``), ``by``,
    and a creator (id or handle) and campaign (id or name), NotFound when unknown."""
    p = params_from(query, settings)
    by = (query.get("by") or "").strip()
    if by not in BY:
        raise BadRequest(f"by: one of {', '.join(BY)}")
    if any(column in CLICK_DIMENSIONS for column, _ in p.where):
        raise BadRequest("a breakdown takes no country or variant filter")
    creator, campaign = (query.get(k, "").strip() for k in ("creator_id", "campaign_id"))
    return Breakdown(
        by,
        p,
        (await store.get_creator(creator))["id"] if creator else None,
        (await store.get_campaign(campaign))["id"] if campaign else None,
    )


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


async def build(store: Store, b: Breakdown) -> dict[str, Any]:
    """The breakdown's rows (one per value) and totals."""
    where = b.params.where + ((("campaign_id", b.campaign_id),) if b.campaign_id else ())
    facts = await store.click_facts(
        b.by, *b.params.click_span, where=where, creator_id=b.creator_id
    )
    totals = {f: sum(int(r[f]) for r in facts) for f in FIGURES}
    rows = [
        {
            "key": r["key"],
            "label": r["key"] if r["key"] is not None else NONE_LABEL,
            **{f: int(r[f]) for f in FIGURES},
            "human_share_pct": _share(int(r["human_clicks"]), totals["human_clicks"]),
        }
        for r in facts
    ]
    rows.sort(key=lambda r: (-r["human_clicks"], -r["clicks"], r["key"] is None, r["label"]))
    return {
        "by": b.by,
        "start": b.params.start.isoformat(),
        "end": b.params.end.isoformat(),
        "creator_id": b.creator_id,
        "campaign_id": b.campaign_id,
        "link_id": b.link_id,
        "rows": rows,
        "totals": {**totals, "human_share_pct": 100.0 if totals["human_clicks"] else None},
    }


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    total = {**report["totals"], "key": None, "label": "Total"}
    return [[report["by"], *(r.get(c) for c in CSV_COLUMNS[1:])] for r in [*report["rows"], total]]
