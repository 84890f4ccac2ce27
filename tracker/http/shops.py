"""JSON API for shops. Secrets are shown once, in the answer that creates or rotates them,
with the postback URLs to paste into Shopify / WooCommerce."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.catalogue import shops as shop_of
from tracker.http.common import authenticate, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, doc


@doc(
    get=Op("List shops", query=PAGE),
    post=Op(
        "Create a shop: its secret (shown once) and the postback URLs",
        body=schemas.ShopIn,
        ok=(201,),
        conflict=True,
    ),
)
async def shops(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    base = st.settings.base_url
    if request.method == "GET":
        limit, offset = page_args(request)
        rows = await st.store.list_shops(limit=limit, offset=offset)
        return JSONResponse(
            {"items": [shop_of.present(r, base) for r in rows], "limit": limit, "offset": offset}
        )
    model = schemas.validate(schemas.ShopIn, await read_json(request, st.settings.max_body_bytes))
    row, shown = await shop_of.create(st.store, schemas.to_row(model))
    return JSONResponse({**shop_of.present(row, base), **shown}, status_code=201)


@doc(
    get=Op("A shop with its recent deliveries and rejections"),
    patch=Op(
        "Update a shop; a new secret rotates (the old one stays valid once more)",
        body=schemas.ShopPatch,
    ),
    delete=Op("Disable a shop (kept for history)"),
)
async def shop(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    base = st.settings.base_url
    ref = request.path_params["ref"]
    if request.method == "GET":
        row = await st.store.get_shop(ref)
        return JSONResponse(
            {
                **shop_of.present(row, base),
                "recent_deliveries": await st.store.recent_deliveries(row["id"], 20),
                "recent_rejections": list(st.rejections.get(row["slug"], []))[:20],
            }
        )
    if request.method == "DELETE":
        row = await st.store.update_shop(ref, {"status": "disabled"})
        return JSONResponse(shop_of.present(row, base))
    model = schemas.validate(
        schemas.ShopPatch, await read_json(request, st.settings.max_body_bytes)
    )
    fields = schemas.to_row(model, only_set=True)
    secret = fields.pop("secret", None)
    if secret:
        await shop_of.rotate(st.store, ref, str(secret))
    row = await st.store.update_shop(ref, fields) if fields else await st.store.get_shop(ref)
    out = shop_of.present(row, base)
    if secret:
        out["secret"] = secret
    return JSONResponse(out)


def routes() -> list[Route]:
    return [
        Route("/shops", shops, methods=["GET", "POST"]),
        Route("/shops/{ref:str}", shop, methods=["GET", "PATCH", "DELETE"]),
    ]
