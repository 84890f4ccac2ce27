"""JSON API for shops, discount codes and orders (the attribution side of ``/api/v1``).

Shop secrets are shown once, in the response that creates (or rotates) them, together with
the postback URLs to paste into Shopify / WooCommerce; never again, never in logs.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.attribution.rules import MODELS, Credited, credits
from tracker.catalogue import codes
from tracker.core.csvfile import csv_response
from tracker.core.errors import NotFound
from tracker.http.catalogue import _page_args, authenticate, read_json, state, validate
from tracker.orders.sources.generic import check_secret
from tracker.state import AppState
from tracker.store.engine import Row


def new_secret(platform: str) -> str:
    if platform == "generic":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def present_shop(row: Row, st: AppState) -> Row:
    base = st.settings.base_url
    return {
        **row,
        "postback_url": f"{base}/postbacks/{row['platform']}/{row['slug']}",
        "pixel_url": f"{base}/postbacks/pixel/{row['slug']}?token=PIXEL_TOKEN&order_id=..."
        "&amount=...&currency=...&click_id=...",
    }


async def shops(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        limit, offset = _page_args(request)
        rows = await st.store.list_shops(limit=limit, offset=offset)
        return JSONResponse(
            {"items": [present_shop(r, st) for r in rows], "limit": limit, "offset": offset}
        )
    model = validate(schemas.ShopIn, await read_json(request, st.settings.max_body_bytes))
    data = schemas.to_row(model)
    data["secret"] = data.get("secret") or new_secret(data["platform"])
    if data["platform"] == "generic":
        check_secret(data["secret"])
    data["pixel_token"] = secrets.token_urlsafe(24)
    row = await st.store.create_shop(data)
    shown = {**present_shop(row, st), "secret": data["secret"], "pixel_token": data["pixel_token"]}
    return JSONResponse(shown, status_code=201)


async def shop(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    if request.method == "GET":
        row = await st.store.get_shop(ref)
        return JSONResponse(
            {
                **present_shop(row, st),
                "recent_deliveries": await st.store.recent_deliveries(row["id"], 20),
                "recent_rejections": list(st.rejections.get(row["slug"], []))[:20],
            }
        )
    if request.method == "DELETE":
        return JSONResponse(
            present_shop(await st.store.update_shop(ref, {"status": "disabled"}), st)
        )
    model = validate(schemas.ShopPatch, await read_json(request, st.settings.max_body_bytes))
    fields = schemas.to_row(model, only_set=True)
    current = await st.store.get_shop(ref)
    if fields.get("secret") and current["platform"] == "generic":
        check_secret(str(fields["secret"]))
    row = await st.store.update_shop(ref, fields)
    out = present_shop(row, st)
    if fields.get("secret"):
        out["secret"] = fields["secret"]
    return JSONResponse(out)


def present_code(row: Row) -> Row:
    return {k: v for k, v in row.items() if k != "code_key"}


async def code_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "POST":
        model = validate(schemas.CodeIn, await read_json(request, st.settings.max_body_bytes))
        row = await codes.create_code(st.store, schemas.to_row(model))
        return JSONResponse(present_code(row), status_code=201)
    limit, offset = _page_args(request)
    filters = await _code_filters(st, request)
    rows = await st.store.list_codes(limit=limit, offset=offset, **filters)
    return JSONResponse(
        {"items": [present_code(r) for r in rows], "limit": limit, "offset": offset}
    )


async def _code_filters(st: AppState, request: Request) -> dict[str, Any]:
    q = request.query_params
    out: dict[str, Any] = {"status": q.get("status") or None}
    if q.get("creator_id"):
        out["creator_id"] = (await st.store.get_creator(q["creator_id"]))["id"]
    if q.get("campaign_id"):
        out["campaign_id"] = (await st.store.get_campaign(q["campaign_id"]))["id"]
    return out


async def code_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    if request.method == "GET":
        return JSONResponse(present_code(await st.store.get_code(ref)))
    if request.method == "DELETE":
        fields: dict[str, Any] = {"status": "disabled"}
    else:
        model = validate(schemas.CodePatch, await read_json(request, st.settings.max_body_bytes))
        fields = await st.store.resolve_creator_campaign(schemas.to_row(model, only_set=True))
    return JSONResponse(present_code(await st.store.update_code(ref, fields)))


async def code_bulk(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    model = validate(schemas.CodeBulk, await read_json(request, st.settings.max_body_bytes))
    rows = await codes.bulk_generate(st.store, model.model_dump())
    return JSONResponse(
        {"items": [present_code(r) for r in rows], "created": len(rows)}, status_code=201
    )


async def code_csv(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    rows = await st.store.list_codes(limit=1_000_000, **await _code_filters(st, request))
    return csv_response(codes.CSV_COLUMNS, codes.csv_rows(rows), "codes.csv")


async def order_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = _page_args(request)
    q = request.query_params
    shop_id = (await st.store.get_shop(q["shop"]))["id"] if q.get("shop") else None
    creator_id = (
        (await st.store.get_creator(q["creator_id"]))["id"] if q.get("creator_id") else None
    )
    rows = await st.store.list_orders(
        shop_id=shop_id,
        creator_id=creator_id,
        unattributed=q.get("unattributed") in ("1", "true"),
        limit=limit,
        offset=offset,
    )
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


async def order_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    order = await st.store.get_order(request.path_params["ref"])
    if order is None:
        raise NotFound("no such order")
    touches = await st.store.order_touches(order["id"])
    winner = next((t for t in touches if t["winner"]), None)
    body = {
        **{k: v for k, v in order.items() if k not in ("customer_hash", "fingerprint")},
        "codes": json.loads(order["codes"]),
        "click_ids": json.loads(order["click_ids"]),
        "new_customer": None if order["new_customer"] is None else bool(order["new_customer"]),
        "refunds": await st.store.order_refunds(order["shop_id"], order["external_id"]),
        "touches": [
            {**t, "matched": bool(t["matched"]), "winner": bool(t["winner"])} for t in touches
        ],
        "winning_signal": winner["method"] if winner else None,
        "credit": credit_by_model(touches, order["placed_at"], st.settings.half_life_days),
    }
    return JSONResponse(body)


def credit_by_model(touches: list[Row], placed_at: str, half_life: float) -> dict[str, Any]:
    """This order's credit per creator under every model (shares sum to 1, or {})."""
    kept = [t for t in touches if t["matched"] and t["creator_id"]]
    objs = [
        Credited(
            t["creator_id"], t["at"], bool(t["winner"]), t["campaign_id"], t["link_id"], t["method"]
        )
        for t in kept
    ]
    out: dict[str, Any] = {}
    for model in MODELS:
        shares: dict[str, float] = {}
        for t, share in zip(kept, credits(objs, model, placed_at, half_life), strict=True):
            who = t.get("creator_handle") or t["creator_id"]
            shares[who] = round(shares.get(who, 0.0) + share, 6)
        out[model] = shares
    return out


def routes() -> list[Route]:
    return [
        Route("/shops", shops, methods=["GET", "POST"]),
        Route("/shops/{ref:str}", shop, methods=["GET", "PATCH", "DELETE"]),
        Route("/codes", code_list, methods=["GET", "POST"]),
        Route("/codes.csv", code_csv, methods=["GET"]),
        Route("/codes/bulk", code_bulk, methods=["POST"]),
        Route("/codes/{ref:str}", code_item, methods=["GET", "PATCH", "DELETE"]),
        Route("/orders", order_list, methods=["GET"]),
        Route("/orders/{ref:str}", order_item, methods=["GET"]),
    ]
