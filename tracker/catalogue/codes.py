"""Discount codes: generation patterns and bulk creation for many creators at once.

Codes are unique case-insensitively (``maya15`` and ``MAYA15`` are one code), as shops
treat them. Patterns: ``handle_number`` (MAYA15, from the handle) and ``random`` (a prefix,
or the handle, plus an unambiguous upper-case suffix). Bulk creation is all-or-nothing.
"""

from __future__ import annotations

import re
from typing import Any

import shortuuid

from tracker.core import money
from tracker.core.errors import Unprocessable
from tracker.store import Store
from tracker.store.engine import Row

_SUFFIX = shortuuid.ShortUUID(alphabet="23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def handle_stem(handle: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", handle).upper()[:20] or "CODE"


def generate(
    handle: str, pattern: str, *, number: int = 15, prefix: str = "", length: int = 6
) -> str:
    stem = prefix.upper() or handle_stem(handle)
    if pattern == "handle_number":
        return f"{stem}{number}"
    return f"{stem}-{_SUFFIX.random(length)}"


async def bulk_generate(store: Store, spec: dict[str, Any]) -> list[Row]:
    """One code per creator; a clash with an existing code gets a random suffix instead."""
    if spec.get("creators"):
        creators = [await store.get_creator(ref) for ref in spec["creators"]]
    else:
        creators = await store.list_creators(status="active", limit=100_000)
    if not creators:
        raise Unprocessable("creators: no creators to generate codes for")
    campaign_id = None
    if spec.get("campaign_id"):
        campaign_id = (await store.get_campaign(spec["campaign_id"]))["id"]
    taken: set[str] = set()
    rows = []
    for creator in creators:
        code = generate(
            creator["handle"],
            spec["pattern"],
            number=spec.get("number", 15),
            prefix=spec.get("prefix", ""),
            length=spec.get("length", 6),
        )
        for _ in range(10):
            if code.lower() not in taken and not await _exists(store, code):
                break
            code = generate(
                creator["handle"],
                "random",
                prefix=spec.get("prefix", ""),
                length=spec.get("length", 6),
            )
        taken.add(code.lower())
        rows.append(
            {
                "code": code,
                "creator_id": creator["id"],
                "campaign_id": campaign_id,
                "value_type": spec.get("value_type"),
                "value": spec.get("value"),
                "currency": spec.get("currency"),
            }
        )
    return await store.create_codes(rows)


async def _exists(store: Store, code: str) -> bool:
    try:
        await store.get_code(code)
    except Exception:
        return False
    return True


async def create_code(store: Store, data: dict[str, Any]) -> Row:
    data = await store.resolve_creator_campaign(data)
    return (await store.create_codes([data]))[0]


CSV_COLUMNS = ("code", "creator", "campaign", "value_type", "value", "currency", "status")


def csv_rows(codes: list[Row]) -> list[list[Any]]:
    """The codes file: a fixed value in major units of its currency (``10.00`` beside
    ``USD``, as people type it and the panel shows it), a percent as a whole percent."""
    return [
        [
            c["code"],
            c["creator_handle"],
            c.get("campaign_name") or "",
            c.get("value_type") or "",
            value_text(c),
            c.get("currency") or "",
            c["status"],
        ]
        for c in codes
    ]


def value_text(code: Row) -> str:
    """A code's value as people read it: ``15`` (percent) or ``10.00`` (fixed, its currency's
    major units); empty without a value."""
    if code.get("value") is None:
        return ""
    if code.get("value_type") == "fixed":  # the panel's reading: USD digits without one
        return money.major(int(code["value"]), str(code.get("currency") or "USD"))
    return str(code["value"])


def value_from_major(fields: dict[str, Any]) -> dict[str, Any]:
    """People type a fixed code value in major units of its currency (10.00 EUR, 1500 JPY);
    the store and the JSON API keep minor units. A percent stays a whole percent."""
    out = dict(fields)
    if out.get("value") in (None, "") or out.get("value_type") != "fixed":
        return out
    if not out.get("currency"):
        raise Unprocessable("currency: required for a fixed value (EUR, USD...)")
    currency = money.currency_code(out["currency"])
    out["currency"] = currency
    out["value"] = money.to_minor(str(out["value"]).replace(",", ""), currency, exact=True)
    return out


def present(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != "code_key"}
