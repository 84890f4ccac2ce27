"""Panel pages for issue 18: webhook endpoints (secret shown once, delivery log, replay,
enable/disable) and fraud flags (evidence, clear or confirm); commissions are in
``admin/commissions_view.py``.
Every change goes through the same services as the API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.tables import Column, Table, csv_response
from admin.web import PAGE_SIZE, Page, admin, page_number, query_with, read_form, redirect, render
from tracker.core.errors import Rejected, Unprocessable
from tracker.events import endpoints
from tracker.fraud import rules as fraud_rules
from tracker.http.errors import status_of
from tracker.schemas import validate

Handler = Callable[[Request], Awaitable[Response]]


async def webhooks_page(
    request: Request, *, form_error: Rejected | None = None, status: int = 200
) -> Response:
    st = admin(request).state
    rows = await st.store.list_endpoints(500, 0)
    return render(
        request,
        "webhooks.html",
        status=status,
        active="webhooks",
        items=[endpoints.present(r) for r in rows],
        form_error=form_error,
    )


async def webhook_detail(request: Request, *, secret: str | None = None) -> Response:
    st = admin(request).state
    ref = request.path_params["ref"]
    ep = endpoints.present(await st.store.get_endpoint(ref))
    return render(
        request,
        "webhook.html",
        status=201 if secret else 200,
        active="webhooks",
        ep=ep,
        secret=secret,
        deliveries=await st.store.endpoint_deliveries(ref, status=None, limit=50, offset=0),
        attempts=await st.store.endpoint_attempts(ref, 50, 0),
    )


async def create_webhook(request: Request) -> Response:
    st = admin(request).state
    form = await read_form(request)
    types = [str(t) for t in form.getlist("event_types") if str(t).strip()]
    data = {
        "url": str(form.get("url") or ""),
        "description": str(form.get("description") or ""),
        "event_types": types,
    }
    try:
        model = validate(endpoints.EndpointIn, data)
        out = await endpoints.create(st.store, st.settings, model)
    except Unprocessable as exc:
        return await webhooks_page(request, form_error=exc, status=status_of(exc))
    request.path_params["ref"] = out["id"]
    return await webhook_detail(request, secret=out["secret"])  # shown once: here only


async def webhook_action(request: Request) -> Response:
    """enable | disable | rotate | replay (every failed delivery)."""
    st = admin(request).state
    ref = request.path_params["ref"]
    form = await read_form(request)
    action = str(form.get("action") or "")
    if action == "replay":
        await st.store.replay(ref, None)
        return redirect(request, f"/webhooks/{ref}", msg="saved")
    patches: dict[str, dict[str, Any]] = {
        "enable": {"status": "active"},
        "disable": {"status": "disabled"},
        "rotate": {"rotate_secret": True},
    }
    if action not in patches:
        raise Unprocessable("action: enable, disable, rotate or replay")
    model = validate(endpoints.EndpointPatch, patches[action])
    out = await endpoints.update(st.store, st.settings, ref, model)
    if action == "rotate":
        return await webhook_detail(request, secret=out["secret"])
    return redirect(request, f"/webhooks/{ref}", msg="saved")


def _flag(row: dict[str, Any]) -> dict[str, Any]:
    evidence = json.loads(str(row["evidence"]))
    return {
        **row,
        "evidence": evidence,
        "summary": evidence.get("summary", ""),
        "kind_text": str(row["kind"]).replace("_", " "),
        "creator": f"@{row['creator_handle']}",
        "created": str(row["created_at"])[:16].replace("T", " "),
    }


FLAG_COLUMNS = [
    Column("created", "Raised (UTC)"),
    Column("kind_text", "Flag"),
    Column("creator", "Creator"),
    Column("order_external_id", "Order"),
    Column("status", "Status"),
    Column("summary", "Evidence"),
    Column("note", "Review note"),
]


async def fraud_page(request: Request) -> Response:
    """Flags by status and kind, 50 a page, with a CSV of exactly the filtered flags."""
    st = admin(request).state
    qp = request.query_params
    status = qp.get("status") or "open"
    if status not in ("open", "cleared", "confirmed"):
        status = "open"
    kind = qp.get("kind") if qp.get("kind") in fraud_rules.KINDS else None
    csv = qp.get("format") == "csv"
    number = page_number(request)
    rows = await st.store.list_flags(
        status,
        100_000 if csv else PAGE_SIZE,
        0 if csv else (number - 1) * PAGE_SIZE,
        kind=kind,
    )
    items = [_flag(r) for r in rows]
    if csv:
        return csv_response(Table(FLAG_COLUMNS, items), f"fraud-{status}.csv")
    return render(
        request,
        "fraud.html",
        active="fraud",
        items=items,
        status_filter=status,
        kind_filter=kind or "",
        kinds=fraud_rules.KINDS,
        page=Page(number, PAGE_SIZE, await st.store.count_flags(status, kind=kind)),
        query_with=lambda **kw: query_with(request, **kw),
        csv_url=query_with(request, format="csv", page=""),
    )


async def review_flag(request: Request) -> Response:
    st = admin(request).state
    form = await read_form(request)
    decision = str(form.get("decision") or "")
    if decision not in ("clear", "confirm"):
        raise Unprocessable("decision: clear or confirm")
    await st.store.review_flag(
        request.path_params["ref"], decision, str(form.get("note") or "")[:500]
    )
    return redirect(request, "/fraud", msg="saved")


def routes(guard: Callable[[Handler], Handler]) -> list[Route]:
    """The pages above, each behind the panel's guard (``admin.app.guard``)."""
    G = guard
    return [
        Route("/webhooks", G(webhooks_page), methods=["GET"]),
        Route("/webhooks", G(create_webhook), methods=["POST"]),
        Route("/webhooks/{ref:str}", G(webhook_detail), methods=["GET"]),
        Route("/webhooks/{ref:str}/action", G(webhook_action), methods=["POST"]),
        Route("/fraud", G(fraud_page), methods=["GET"]),
        Route("/fraud/{ref:str}/review", G(review_flag), methods=["POST"]),
    ]
