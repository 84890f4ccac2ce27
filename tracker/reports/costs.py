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
from tracker.core.errors import NotFound, Rejected, Unprocessable
from tracker.core.money import MAX_MINOR, major, to_minor, typed_currency
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
            raise Unprocessable(f"amount: required for a {m.kind} cost")
        row["amount_minor"] = m.amount_minor
    elif m.kind == "commission":
        if m.rate_percent is None:
            raise Unprocessable("rate_percent: required for a commission")
        row["rate_bp"] = round(m.rate_percent * 100)
    else:
        if m.hours is None or m.rate_minor is None:
            raise Unprocessable("hours: hours and hourly_rate are required for labor")
        row["hours_centi"] = round(m.hours * 100)
        row["rate_minor"] = m.rate_minor
        row["amount_minor"] = round(m.hours * m.rate_minor)
        if row["amount_minor"] > MAX_MINOR:  # each factor is in range; their product need not be
            raise Unprocessable(f"hours: hours x hourly_rate is over {MAX_MINOR} minor units")
    return row


async def post_row(store: Store, m: schemas.PostIn) -> dict[str, Any]:
    refs = await store.resolve_creator_campaign(
        {"creator_id": m.creator_id, "campaign_id": m.campaign_id}
    )
    data = m.model_dump(exclude={"creator_id", "campaign_id", "link_id"})
    data["posted_at"] = clock.to_iso(m.posted_at)
    if m.link_id:
        try:
            link = await store.get_link(m.link_id)
        except NotFound:
            raise Unprocessable(f"link_id: no such link {m.link_id!r}") from None
        if link["creator_id"] != refs["creator_id"]:
            raise Unprocessable("link_id: the link belongs to another creator")
        data["link_id"] = link["id"]
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
    rows: list[dict[str, str]] = []
    try:
        for i, row in enumerate(reader):
            if i >= MAX_ROWS:
                raise Unprocessable(f"at most {MAX_ROWS} rows per import")
            rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k})
    except csv.Error as exc:  # a field over the csv module's 128 KiB: a 422, never a 500
        raise Unprocessable(f"row {len(rows) + 1}: {exc}") from None
    if not rows:
        raise Unprocessable("CSV has a header but no rows")
    return rows


def _blank_to_none(row: dict[str, str]) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in row.items()}


#: The cost CSV's columns (also the panel form's fields and `tracker cost add` options).
COST_COLUMNS = (
    "creator",
    "campaign",
    "kind",
    "amount",
    "currency",
    "rate_percent",
    "hours",
    "hourly_rate",
    "date",
    "note",
)
COST_HELP = {
    "creator": "creator handle or id",
    "campaign": "campaign name or id (optional)",
    "kind": "fee | product | commission | labor",
    "amount": "fee or product: amount in major units, e.g. 12.50",
    "currency": "ISO 4217 code (default USD)",
    "rate_percent": "commission: percent of each credited order's net revenue, e.g. 10",
    "hours": "labor: hours worked",
    "hourly_rate": "labor: rate per hour in major units",
    "date": "when it was incurred, YYYY-MM-DD",
    "note": "free text",
}
POST_COLUMNS = (
    "creator, campaign, link, platform, format, category, url, posted_at, likes, comments, shares, "
    "saves, reach, impressions, followers"
)


def present_cost(row: dict[str, Any]) -> dict[str, Any]:
    """A stored cost as people read it: major units beside the stored minor units."""
    out = dict(row)
    currency = row.get("currency") or "USD"
    for key in ("amount_minor", "rate_minor"):
        if row.get(key) is not None:
            out[key.removesuffix("_minor")] = major(int(row[key]), currency)
    return out


#: Internal field -> the column as the CSV file (and the form, and the CLI flag) names it.
COLUMN_OF = {
    "creator_id": "creator",
    "campaign_id": "campaign",
    "incurred_on": "date",
    "amount_minor": "amount",
    "rate_minor": "hourly_rate",
    "followers_at_post": "followers",
    "link_id": "link",
}
_PLAIN = {
    "currency": "a 3-letter ISO 4217 code such as USD or EUR",
    "date": "a date as YYYY-MM-DD",
    "posted_at": "a date and time such as 2026-03-01T18:00:00Z",
}


def column_error(exc: ValidationError) -> tuple[str, str]:
    """(column, message) of a validation error, in the file's own words (no pydantic
    internals such as a regex)."""
    e = exc.errors()[0]
    field = ".".join(str(x) for x in e["loc"])
    column = COLUMN_OF.get(field, field)
    message = schemas.plain_message(e)
    if (
        e["type"]
        in (
            "string_pattern_mismatch",
            "date_from_datetime_parsing",
            "date_parsing",
            "datetime_from_date_parsing",
            "datetime_parsing",
        )
        or column in _PLAIN
    ):
        message = f"expected {_PLAIN.get(column, 'a valid ' + column)}"
    return column, message


async def _import(
    store: Store, body: bytes, convert: Any, write: Any, dry_run: bool
) -> dict[str, Any]:
    rows, errors = [], []
    for n, raw in enumerate(_rows(body), start=1):
        try:
            rows.append(await convert(store, _blank_to_none(raw)))
        except ValidationError as exc:
            column, message = column_error(exc)
            errors.append({"row": n, "column": column, "error": message})
        except Rejected as exc:
            column, _, message = exc.reason.partition(": ")
            if message and column in (*COLUMN_OF.values(), *COLUMN_OF, "currency"):
                errors.append({"row": n, "column": COLUMN_OF.get(column, column), "error": message})
            else:
                errors.append({"row": n, "column": "", "error": exc.reason})
    if errors or dry_run:
        return {"imported": 0, "valid_rows": len(rows), "errors": errors, "dry_run": dry_run}
    await write(rows)
    return {"imported": len(rows), "errors": []}


async def _cost_from_csv(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    currency = typed_currency(raw.get("currency") or "USD")
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
    for column, field in (("amount", "amount_minor"), ("hourly_rate", "rate_minor")):
        if raw.get(column) is not None:
            try:
                data[field] = to_minor(raw[column], currency, exact=True)
            except Rejected as exc:
                raise Unprocessable(f"{column}: {exc.reason.removeprefix('amount: ')}") from None
    return await cost_row(
        store, schemas.CostIn.model_validate({k: v for k, v in data.items() if v is not None})
    )


async def _post_from_csv(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    data = {
        "creator_id": raw.get("creator"),
        "campaign_id": raw.get("campaign"),
        "link_id": raw.get("link"),
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
    """Columns: creator, campaign, link (optional: the tracking link's slug or id), platform,
    format, category, url, posted_at, likes, comments, shares, saves, reach, impressions,
    followers."""
    return await _import(store, body, _post_from_csv, store.add_posts, dry_run)


async def cost_from_fields(store: Store, fields: dict[str, str]) -> dict[str, Any]:
    """A cost from the same named fields as a CSV row (the admin form): amounts in major units.
    Raises pydantic's ValidationError or Unprocessable, like a CSV row."""
    return await _cost_from_csv(store, _blank_to_none(fields))
