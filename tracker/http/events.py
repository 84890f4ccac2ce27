"""JSON API for events out: webhook endpoints (secret shown once), their delivery log and
replay, and the events themselves."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.core.errors import BadRequest
from tracker.events import endpoints
from tracker.http.common import authenticate, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc

_STATUSES = ("pending", "delivered", "failed")
STATUS = Param("status", {"type": "string", "enum": list(_STATUSES)})


@doc(
    get=Op("Webhook endpoints", query=PAGE),
    post=Op(
        "Register a webhook endpoint: the answer holds its secret, shown once",
        body=endpoints.EndpointIn,
        ok=(201,),
    ),
)
async def endpoint_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        limit, offset = page_args(request)
        rows = await st.store.list_endpoints(limit, offset)
        return JSONResponse(
            {"items": [endpoints.present(r) for r in rows], "limit": limit, "offset": offset}
        )
    model = schemas.validate(
        endpoints.EndpointIn, await read_json(request, st.settings.max_body_bytes)
    )
    out = await endpoints.create(st.store, st.settings, model)
    return JSONResponse(out, status_code=201)


@doc(
    get=Op("A webhook endpoint (never its secret)"),
    patch=Op(
        "Change, enable, disable an endpoint or rotate its secret (shown once)",
        body=endpoints.EndpointPatch,
    ),
    delete=Op("Delete an endpoint with its delivery log"),
)
async def endpoint_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    if request.method == "GET":
        return JSONResponse(endpoints.present(await st.store.get_endpoint(ref)))
    if request.method == "DELETE":
        await st.store.delete_endpoint(ref)
        return JSONResponse({"deleted": ref})
    model = schemas.validate(
        endpoints.EndpointPatch, await read_json(request, st.settings.max_body_bytes)
    )
    return JSONResponse(await endpoints.update(st.store, st.settings, ref, model))


@doc(get=Op("Deliveries to an endpoint", query=(*PAGE, STATUS)))
async def deliveries(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    await st.store.get_endpoint(ref)
    limit, offset = page_args(request)
    status = request.query_params.get("status")
    if status is not None and status not in _STATUSES:
        raise BadRequest(f"status must be one of {', '.join(_STATUSES)}")
    rows = await st.store.endpoint_deliveries(ref, status=status, limit=limit, offset=offset)
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


@doc(get=Op("The delivery log of an endpoint: one row per attempt", query=PAGE))
async def attempts(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    await st.store.get_endpoint(ref)
    limit, offset = page_args(request)
    rows = await st.store.endpoint_attempts(ref, limit, offset)
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


@doc(
    post=Op(
        "Re-send one event (same id), or every failed delivery",
        body=endpoints.ReplayIn,
        ok=(202,),
    )
)
async def replay(request: Request) -> Response:
    """Body ``{"event_id": "evt_..."}`` re-sends one event; ``{}`` re-sends every failed one."""
    await authenticate(request)
    st = state(request)
    model = schemas.validate(
        endpoints.ReplayIn, await read_json(request, st.settings.max_body_bytes)
    )
    queued = await st.store.replay(request.path_params["ref"], model.event_id)
    return JSONResponse({"queued": queued}, status_code=202)


def _event(row: dict[str, object]) -> dict[str, object]:
    out = {k: v for k, v in row.items() if k != "payload"}
    out["body"] = json.loads(str(row["payload"]))
    return out


@doc(get=Op("Events (the outbox), newest first", query=(*PAGE, Param("type"), Param("subject"))))
async def event_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = page_args(request)
    q = request.query_params
    rows = await st.store.list_events(
        event_type=q.get("type"), subject=q.get("subject"), limit=limit, offset=offset
    )
    return JSONResponse({"items": [_event(r) for r in rows], "limit": limit, "offset": offset})


@doc(get=Op("An event with its exact body"))
async def event_item(request: Request) -> Response:
    await authenticate(request)
    return JSONResponse(_event(await state(request).store.get_event(request.path_params["ref"])))


def routes() -> list[Route]:
    return [
        Route("/webhooks", endpoint_list, methods=["GET", "POST"]),
        Route("/webhooks/{ref:str}", endpoint_item, methods=["GET", "PATCH", "DELETE"]),
        Route("/webhooks/{ref:str}/deliveries", deliveries, methods=["GET"]),
        Route("/webhooks/{ref:str}/attempts", attempts, methods=["GET"]),
        Route("/webhooks/{ref:str}/replay", replay, methods=["POST"]),
        Route("/events", event_list, methods=["GET"]),
        Route("/events/{ref:str}", event_item, methods=["GET"]),
    ]
