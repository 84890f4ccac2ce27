"""A link's own page: what it is, a form to edit it, and an editor for its targeting rules
and A/B variants.

The editor adds or removes one rule or variant at a time. Whatever the form holds becomes
the link's whole ``targeting`` object and goes through the API's own path
(``PATCH /api/v1/links/{id}``): ``schemas.LinkPatch`` (``TargetingIn``: names, limits,
conditions, weights) then ``tracker.links.service.update_link`` (every destination checked
by the destination rule: no open redirect through a rule or variant). So the panel, the API
and the CLI accept and refuse the same things, with the same messages; a refused form
changes nothing and is shown again with the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from admin.web import admin, read_form, redirect, render, sent_fields
from tracker import schemas
from tracker.core import clock
from tracker.core.errors import Conflict, NotFound, Rejected, Unprocessable
from tracker.http.errors import status_of
from tracker.links import service as catalogue
from tracker.links.targeting import DEVICES, OSES
from tracker.schemas import validate

RULE_FIELDS = ("name", "destination", "country", "language", "query_name", "query_value")
#: The edit form's fields; an emptied one clears the link's value (None), except those that
#: cannot be empty (title and content type become ''; an empty destination is refused).
EDIT_FIELDS = (
    "destination",
    "title",
    "campaign_id",
    "content_type",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "expires_at",
    "status",
)
VARIANT_FIELDS = ("name", "destination", "weight")


async def link_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    a = admin(request)
    link = catalogue.present(await a.store.get_link(request.path_params["ref"]), a.settings)
    spec = link["targeting"] or {}
    creator = await a.store.get_creator(link["creator_id"]) if link.get("creator_id") else None
    return render(
        request,
        "link.html",
        status=status,
        active="links",
        link=link,
        campaign=await a.store.get_campaign(link["campaign_id"])
        if link.get("campaign_id")
        else None,
        campaigns=await a.store.list_campaigns(limit=500),
        creator=creator,
        state=catalogue.link_state(link, clock.now_iso()),
        rules=[{**r, "conditions": describe(r["when"])} for r in spec.get("rules") or ()],
        variants=spec.get("variants") or [],
        devices=DEVICES,
        oses=OSES,
        form_error=form_error,
        form=form or {},
    )


def describe(when: dict[str, Any]) -> str:
    """A rule's conditions as a person reads them: ``os ios or android; country US``."""
    parts = [
        f"{k} {' or '.join(str(v) for v in when[k])}"
        for k in ("device", "os", "country", "language")
        if when.get(k)
    ]
    query = when.get("query")
    if query:
        parts.append(
            f"?{query['name']}={query['value']}"
            if query.get("value") is not None
            else f"?{query['name']}"
        )
    return "; ".join(parts)


def _words(text: str) -> list[str] | None:
    """``US, CA`` or ``US CA`` -> ['US', 'CA']; empty -> None (no such condition)."""
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    return words or None


def rule_from_form(values: dict[str, Any]) -> dict[str, Any]:
    """The form's fields -> a rule as the API takes it (validated by ``TargetingIn``)."""
    when: dict[str, Any] = {
        "device": values.get("device") or None,
        "os": values.get("os") or None,
        "country": _words(values.get("country", "")),
        "language": _words(values.get("language", "")),
    }
    if values.get("query_name"):
        when["query"] = {"name": values["query_name"], "value": values.get("query_value") or None}
    return {
        "name": values.get("name", ""),
        "when": {k: v for k, v in when.items() if v is not None},
        "destination": values.get("destination", ""),
    }


def _values(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {n: str(form.get(n) or "").strip() for n in names}
    out["device"] = [str(v) for v in form.getlist("device")]
    out["os"] = [str(v) for v in form.getlist("os")]
    return out


async def edit_targeting(request: Request) -> Response:
    """Add a rule, add a variant, or remove one (by name); all or nothing."""
    a = admin(request)
    link = await a.store.get_link(request.path_params["ref"])
    spec = json.loads(link["targeting"]) if link.get("targeting") else {}
    rules, variants = list(spec.get("rules") or []), list(spec.get("variants") or [])
    form = await read_form(request)
    action = str(form.get("action") or "")
    values: dict[str, Any] = {}
    if action == "add_rule":
        values = _values(form, RULE_FIELDS)
        rules.append(rule_from_form(values))
    elif action == "add_variant":
        values = _values(form, VARIANT_FIELDS)
        weight = values["weight"] or "1"
        variant = {"name": values["name"], "destination": values["destination"]}
        variants.append({**variant, "weight": int(weight) if weight.isdigit() else weight})
    elif action == "remove":
        name = str(form.get("name") or "")
        kept = [r for r in rules if r["name"] != name], [v for v in variants if v["name"] != name]
        if len(kept[0]) + len(kept[1]) == len(rules) + len(variants):
            raise NotFound(f"no rule or variant named {name!r} on this link")
        rules, variants = kept
    else:
        raise Unprocessable("action: add_rule, add_variant or remove")
    targeting = {"rules": rules, "variants": variants} if rules or variants else None
    try:
        model = validate(schemas.LinkPatch, {"targeting": targeting})
        before, after = await catalogue.update_link(
            a.store, a.settings, link["id"], schemas.to_row(model, only_set=True)
        )
    except Unprocessable as exc:
        return await link_page(
            request, form_error=exc, form={**values, "action": action}, status=status_of(exc)
        )
    a.state.cache.invalidate(before["slug"], after["slug"])
    return redirect(request, f"/links/{after['id']}", msg="saved")


def edit_values(form: Any) -> dict[str, Any]:
    """The edit form -> a ``LinkPatch`` body: every field is sent, so an emptied one clears."""
    values: dict[str, Any] = dict(sent_fields(form, EDIT_FIELDS))
    for name in EDIT_FIELDS:
        if not values[name] and name not in (*schemas.LinkPatch.NOT_NULL, "destination"):
            values[name] = None
    values["utm_override"] = bool(form.get("utm_override"))
    return values


async def update_link(request: Request) -> Response:
    """Edit a link's destination, title, campaign, UTM fields, expiry and status through the
    API's own path (``LinkPatch``, ``update_link``: the destination rule, the campaign's
    existence); a refused form changes nothing and is shown again with the reason."""
    a = admin(request)
    link = await a.store.get_link(request.path_params["ref"])
    values = edit_values(await read_form(request))
    try:
        model = validate(schemas.LinkPatch, values)
        before, after = await catalogue.update_link(
            a.store, a.settings, link["id"], schemas.to_row(model, only_set=True)
        )
    except (Unprocessable, Conflict) as exc:
        shown = {k: ("" if v is None else v) for k, v in values.items()}
        return await link_page(
            request, form_error=exc, form={**shown, "action": "edit"}, status=status_of(exc)
        )
    a.state.cache.invalidate(before["slug"], after["slug"])
    return redirect(request, f"/links/{after['id']}", msg="saved")
