"""Catalogue operations shared by the API, the CLI and the admin: rules beyond a single row.

Links get a checked destination, a generated slug when none is given (retrying on the rare
collision), and UTM defaults that follow the usual influencer convention
(source = platform, medium = influencer, campaign = campaign name, content = handle).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tracker.core import ids
from tracker.core.errors import Conflict, NotFound, Unprocessable
from tracker.links.apply import compile_apply
from tracker.links.rules import UTM_FIELDS, check_slug, clean_destination
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.engine import Row


def _utm_value(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:100]


async def utm_defaults(store: Store, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("creator_id"):
        creator = await store.get_creator(data["creator_id"])
        out["utm_source"] = creator["platform"]
        out["utm_content"] = creator["handle"]
    out["utm_medium"] = "influencer"
    if data.get("campaign_id"):
        campaign = await store.get_campaign(data["campaign_id"])
        out["utm_campaign"] = _utm_value(campaign["name"])
    return out


async def create_link(
    store: Store, settings: Settings, data: dict[str, Any], given: set[str]
) -> Row:
    """``given`` names the fields the caller set; absent UTM fields get defaults."""
    data = dict(data)
    data["destination"] = clean_destination(data["destination"], settings.allowed_hosts)
    await reach_fields(store, settings, data, data.get("creator_id"))
    try:
        defaults = await utm_defaults(store, data)
    except Exception:
        defaults = {}  # unknown creator/campaign: create_link reports it with a 422
    for name in UTM_FIELDS:
        if name not in given and defaults.get(name):
            data[name] = defaults[name]
        elif not data.get(name):
            data[name] = None
    if data.get("slug"):
        check_slug(data["slug"])
        return await store.create_link(data)
    for attempt in range(5):
        data["slug"] = ids.slug(7 + attempt // 2)
        try:
            return await store.create_link(data)
        except Conflict:
            continue
    raise Conflict("could not generate a free slug; try again")


async def bulk_create(store: Store, settings: Settings, spec: dict[str, Any]) -> list[Row]:
    """One link per creator (``spec["creators"]``, else every active creator) to one
    destination, each with the usual UTM defaults for its creator and the campaign; all or
    nothing. Slugs are generated; a clash with an existing slug draws them all again."""
    if spec.get("creators"):
        creators = [await _creator(store, ref) for ref in spec["creators"]]
    else:
        creators = await store.list_creators(status="active", limit=100_000)
    if not creators:
        raise Unprocessable("creators: no creators to make links for")
    seen: set[str] = set()
    for creator in creators:
        if creator["id"] in seen:
            raise Unprocessable(f"creators: @{creator['handle']} is named twice")
        seen.add(creator["id"])
    common = await store.resolve_creator_campaign({"campaign_id": spec.get("campaign_id")})
    base = {
        "destination": clean_destination(spec["destination"], settings.allowed_hosts),
        "campaign_id": common["campaign_id"],
        "utm_term": spec.get("utm_term") or None,
        "utm_override": int(bool(spec.get("utm_override"))),
        "content_type": spec.get("content_type") or "",
        "title": spec.get("title") or "",
        "expires_at": spec.get("expires_at"),
    }
    rows = []
    for creator in creators:
        row = {**base, "creator_id": creator["id"]}
        rows.append({**row, **await utm_defaults(store, row)})
    for attempt in range(5):
        slugs: set[str] = set()
        while len(slugs) < len(rows):
            slugs.add(ids.slug(7 + attempt // 2))
        try:
            return await store.create_links(
                [{**r, "slug": s} for r, s in zip(rows, sorted(slugs), strict=True)]
            )
        except Conflict:
            continue
    raise Conflict("could not generate free slugs; try again")


async def _creator(store: Store, ref: str) -> Row:
    try:
        return await store.get_creator(ref.lstrip("@"))
    except NotFound as exc:
        raise Unprocessable(f"creators: {exc.reason}") from None


async def update_link(
    store: Store, settings: Settings, ref: str, fields: dict[str, Any]
) -> tuple[Row, Row]:
    """Return (before, after) so callers can invalidate both slugs."""
    before = await store.get_link(ref)
    if fields.get("destination"):
        fields["destination"] = clean_destination(fields["destination"], settings.allowed_hosts)
    elif "destination" in fields:
        fields.pop("destination")
    if fields.get("slug"):
        check_slug(fields["slug"])
    elif "slug" in fields:
        fields.pop("slug")
    if "apply_code" not in fields and before.get("apply_code") and "creator_id" in fields:
        fields["apply_code"] = json.loads(before["apply_code"])  # checked for the new creator
    creator = fields["creator_id"] if "creator_id" in fields else before["creator_id"]
    await reach_fields(store, settings, fields, creator)
    after = await store.update_link(before["id"], fields)
    return before, after


async def reach_fields(
    store: Store, settings: Settings, data: dict[str, Any], creator_ref: str | None
) -> None:
    """``targeting`` and ``apply_code`` (validated dicts) -> JSON text for the store, each
    destination checked by the destination rule (a rule or variant is a destination like
    any other: no open redirect through them); the applied code must be the creator's."""
    spec = data.get("targeting")
    if isinstance(spec, dict):
        for kind in ("rules", "variants"):
            for item in spec.get(kind) or ():
                try:
                    item["destination"] = clean_destination(
                        item["destination"], settings.allowed_hosts
                    )
                except Unprocessable as exc:
                    raise Unprocessable(f"targeting.{kind} {item['name']!r}: {exc}") from None
        data["targeting"] = json.dumps(spec, separators=(",", ":"))
    apply = data.get("apply_code")
    if isinstance(apply, dict):
        apply = {k: v for k, v in apply.items() if v is not None}
        if apply.get("kind") != "woocommerce":
            apply.pop("param", None)  # the URL-coupon parameter is WooCommerce's only
        apply["code"] = await _applied_code(store, apply.get("code"), creator_ref)
        compile_apply(
            apply,
            lambda url: clean_destination(url, settings.allowed_hosts),
            taken=frozenset((*UTM_FIELDS, settings.click_id_param)),
        )
        data["apply_code"] = json.dumps(apply, separators=(",", ":"))


async def _applied_code(store: Store, code: str | None, creator_ref: str | None) -> str:
    creator = None
    if creator_ref:
        try:
            creator = (await store.get_creator(creator_ref))["id"]
        except NotFound:
            raise Unprocessable(f"creator_id: no such creator {creator_ref!r}") from None
    if code is None:
        if creator is None:
            raise Unprocessable("apply_code.code: required for a link without a creator")
        rows = await store.list_codes(creator_id=creator, status="active", limit=1000)
        if not rows:
            raise Unprocessable("apply_code.code: the creator has no active code")
        return str(max(rows, key=lambda r: r["created_at"])["code"])
    try:
        row = await store.get_code(code)
    except NotFound:
        raise Unprocessable(f"apply_code.code: no such code {code!r}") from None
    if creator is not None and row["creator_id"] != creator:
        raise Unprocessable(f"apply_code.code: {code!r} is another creator's code")
    return str(row["code"])


def present(row: Row, settings: Settings) -> Row:
    """A link as the API and CLI show it: its full short URL."""
    return {
        **row,
        "targeting": json.loads(row["targeting"]) if row.get("targeting") else None,
        "apply_code": json.loads(row["apply_code"]) if row.get("apply_code") else None,
        "utm_override": bool(row["utm_override"]),
        "short_url": f"{settings.base_url}/{row['slug']}",
    }


def link_state(row: dict[str, Any], now: str) -> str:
    """What a visitor gets (the panel shows it): disabled and expired links answer 410,
    whatever the stored status says."""
    if row["status"] != "active":
        return "disabled"
    if row.get("expires_at") and row["expires_at"] <= now:
        return "expired"
    return "active"
