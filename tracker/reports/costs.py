"""Costs and content posts: validation into store rows, and all-or-nothing CSV import.

A CSV import checks every row first and writes nothing if any row is wrong; each error names
its row number (1 = the first data row after the header) and column, so a brand manager can
fix the sheet and send it again.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from tracker import schemas
from tracker.core import clock
from tracker.core.errors import Rejected, Unprocessable
from tracker.core.money import to_minor
from tracker.reports import roi
from tracker.store import Store
from tracker.store.engine import Row

MAX_ROWS = 20_000


async def cost_row(store: Store, m: schemas.CostIn) -> dict[str, Any]:
    refs = await store.resolve_creator_campaign(
        {"creator_id": m.creator_id, "campaign_id": m.campaign_id}
    )
    row: dict[str, Any] = {
        **refs,
        "kind": m.kind,
        "currency": m.currency,
        "incurred_on": m.incurred_on.isoformat(),
        "note": m.note,
        "amount_minor": 0,
    }
    if m.kind in ("fee", "product"):
        if m.amount_minor is None:
            raise Unprocessable(f"amount_minor: required for a {m.kind} cost")
        row["amount_minor"] = m.amount_minor
    elif m.kind == "commission":
        if m.rate_percent is None:
            raise Unprocessable("rate_percent: required for a commission")
        row["rate_bp"] = round(m.rate_percent * 100)
    else:
        if m.hours is None or m.rate_minor is None:
            raise Unprocessable("hours and rate_minor: required for labor")
        row["hours_centi"] = round(m.hours * 100)
        row["rate_minor"] = m.rate_minor
        row["amount_minor"] = round(m.hours * m.rate_minor)
    return row


async def post_row(store: Store, m: schemas.PostIn) -> dict[str, Any]:
    refs = await store.resolve_creator_campaign(
        {"creator_id": m.creator_id, "campaign_id": m.campaign_id}
    )
    data = m.model_dump(exclude={"creator_id", "campaign_id"})
    data["posted_at"] = clock.to_iso(m.posted_at)
    return {**refs, **data}


def present_post(row: Row) -> Row:
    followers = row.get("followers_at_post")
    out = dict(row)
    out["engagement_rate"] = roi.engagement_rate(
        row["likes"], row["comments"], row["shares"], followers
    )
    out["engagement_rate_by_reach"] = roi.engagement_rate(
        row["likes"], row["comments"], row["shares"], row.get("reach")
    )
    return out


def _rows(body: bytes) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unprocessable("CSV must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for i, row in enumerate(reader):
        if i >= MAX_ROWS:
            raise Unprocessable(f"at most {MAX_ROWS} rows per import")
        rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k})
    if not rows:
        raise Unprocessable("CSV has a header but no rows")
    return rows


def _blank_to_none(row: dict[str, str]) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in row.items()}


async def _import(
    store: Store, body: bytes, convert: Any, write: Any, dry_run: bool
) -> dict[str, Any]:
    rows, errors = [], []
    for n, raw in enumerate(_rows(body), start=1):
        try:
            rows.append(await convert(store, _blank_to_none(raw)))
        except ValidationError as exc:
            e = exc.errors()[0]
            errors.append(
                {"row": n, "column": ".".join(str(x) for x in e["loc"]), "error": e["msg"]}
            )
        except Rejected as exc:
            errors.append({"row": n, "column": "", "error": exc.reason})
    if errors or dry_run:
        return {"imported": 0, "valid_rows": len(rows), "errors": errors, "dry_run": dry_run}
    await write(rows)
    return {"imported": len(rows), "errors": []}


async def _cost_from_csv(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    currency = (raw.get("currency") or "USD").upper()
    data = {
        "creator_id": raw.get("creator"),
        "campaign_id": raw.get("campaign"),
        "kind": raw.get("kind"),
        "currency": currency,
        "incurred_on": raw.get("date"),
        "note": raw.get("note") or "",
        "rate_percent": raw.get("rate_percent"),
        "hours": raw.get("hours"),
    }
    if raw.get("amount") is not None:
        data["amount_minor"] = to_minor(raw["amount"], currency)
    if raw.get("hourly_rate") is not None:
        data["rate_minor"] = to_minor(raw["hourly_rate"], currency)
    return await cost_row(
        store, schemas.CostIn.model_validate({k: v for k, v in data.items() if v is not None})
    )


async def _post_from_csv(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    data = {
        "creator_id": raw.get("creator"),
        "campaign_id": raw.get("campaign"),
        "followers_at_post": raw.get("followers"),
        **{
            k: raw.get(k)
            for k in (
                "platform",
                "format",
                "category",
                "url",
                "posted_at",
                "likes",
                "comments",
                "shares",
                "saves",
                "reach",
                "impressions",
            )
        },
    }
    return await post_row(
        store, schemas.PostIn.model_validate({k: v for k, v in data.items() if v is not None})
    )


async def import_costs(store: Store, body: bytes, *, dry_run: bool = False) -> dict[str, Any]:
    """Columns: creator, campaign, kind, amount, currency, rate_percent, hours, hourly_rate,
    date, note (amounts in major units, e.g. 250.00)."""
    return await _import(store, body, _cost_from_csv, store.add_costs, dry_run)


async def import_posts(store: Store, body: bytes, *, dry_run: bool = False) -> dict[str, Any]:
    """Columns: creator, campaign, platform, format, category, url, posted_at, likes, comments,
    shares, saves, reach, impressions, followers."""
    return await _import(store, body, _post_from_csv, store.add_posts, dry_run)


async def cost_from_fields(store: Store, fields: dict[str, str]) -> dict[str, Any]:
    """A cost from the same named fields as a CSV row (the admin form): amounts in major units.
    Raises pydantic's ValidationError or Unprocessable, like a CSV row."""
    return await _cost_from_csv(store, _blank_to_none(fields))
