"""JSON API for orders: the list, and one order with its touches, winner and credit per model."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker.attribution import credit
from tracker.core.errors import NotFound
from tracker.http.common import authenticate, page_args, state
from tracker.http.openapi import PAGE, Op, Param, doc
from tracker.orders.rematch import rematch
from tracker.reports import survey


@doc(
    get=Op(
        "List orders",
        query=(
            *PAGE,
            Param("shop", description="shop id or slug"),
            Param("creator_id", description="creator id or handle"),
            Param("unattributed", {"type": "boolean"}, "only orders no creator won"),
        ),
    )
)
async def order_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = page_args(request)
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


#: Keyed hashes and tags kept for matching: never shown.
PRIVATE = frozenset({"customer_hash", "fingerprint", "ip_tag", "lang_tag", "legacy_fingerprint"})


@doc(get=Op("An order: touches, winning signal, credit under every model"))
async def order_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    order = await st.store.get_order(request.path_params["ref"])
    if order is None:
        raise NotFound("no such order")
    touches = await st.store.order_touches(order["id"])
    winner = next((t for t in touches if t["winner"]), None)
    body = {
        **{k: v for k, v in order.items() if k not in PRIVATE},
        "codes": json.loads(order["codes"]),
        "click_ids": json.loads(order["click_ids"]),
        "new_customer": None if order["new_customer"] is None else bool(order["new_customer"]),
        "refunds": await st.store.order_refunds(order["shop_id"], order["external_id"]),
        "touches": [
            {**t, "matched": bool(t["matched"]), "winner": bool(t["winner"])} for t in touches
        ],
        "winning_signal": winner["method"] if winner else None,
        "credit": credit.by_model(touches, order["placed_at"], st.settings.half_life_days),
        "survey": await survey.order_claim(
            st.store, order.get("survey_answer"), st.settings.survey_min_score
        ),
    }
    return JSONResponse(body)


@doc(
    post=Op(
        "Match unattributed orders again against the clicks stored since (one pass)",
        description="Idempotent; safe while other nodes run the periodic job. Answers how "
        "many candidate orders were checked and which were re-matched.",
    )
)
async def order_rematch(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    return JSONResponse(await rematch(st.store, st.settings))


def routes() -> list[Route]:
    return [
        Route("/orders", order_list, methods=["GET"]),
        Route("/orders/rematch", order_rematch, methods=["POST"]),
        Route("/orders/{ref:str}", order_item, methods=["GET"]),
    ]
