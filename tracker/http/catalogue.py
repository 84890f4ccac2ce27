"""JSON API for the catalogue: creators, campaigns and links, plus link stats and clicks.

Each resource has the same five verbs: list, create, get, update (PATCH) and disable (DELETE
keeps the record and its history, sets status=disabled). Records may be addressed by id or by
their natural key (handle, campaign name, slug).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.catalogue import campaigns, creators
from tracker.http.common import authenticate, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc
from tracker.links import service as links
from tracker.settings import Settings
from tracker.state import AppState
from tracker.store.engine import Row


# -- resources ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resource:
    name: str
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    present: Callable[[Row, Settings], Row]
    filters: tuple[Param, ...] = ()

    @property
    def one(self) -> str:
        return self.name[:-1]


STATUS = Param("status", {"type": "string", "enum": ["active", "disabled"]})
RESOURCES = (
    Resource(
        "creators",
        schemas.CreatorIn,
        schemas.CreatorPatch,
        creators.present,
        (STATUS, Param("q", description="part of the handle or name")),
    ),
    Resource("campaigns", schemas.CampaignIn, schemas.CampaignPatch, campaigns.present),
    Resource(
        "links",
        schemas.LinkIn,
        schemas.LinkPatch,
        links.present,
        (
            Param("creator_id", description="creator id or handle"),
            Param("campaign_id", description="campaign id or name"),
            STATUS,
        ),
    ),
)


async def _create(st: AppState, res: Resource, model: BaseModel) -> Row:
    row = schemas.to_row(model)
    if res.name == "creators":
        return await st.store.create_creator(row)
    if res.name == "campaigns":
        return await st.store.create_campaign(row)
    link = await links.create_link(st.store, st.settings, row, model.model_fields_set)
    st.cache.invalidate(link["slug"])
    return link


async def _update(st: AppState, res: Resource, ref: str, fields: dict[str, Any]) -> Row:
    if res.name == "creators":
        return await st.store.update_creator(ref, fields)
    if res.name == "campaigns":
        return await st.store.update_campaign(ref, fields)
    before, after = await links.update_link(st.store, st.settings, ref, fields)
    st.cache.invalidate(before["slug"], after["slug"])
    return after


async def _get(st: AppState, res: Resource, ref: str) -> Row:
    getter = {
        "creators": st.store.get_creator,
        "campaigns": st.store.get_campaign,
        "links": st.store.get_link,
    }[res.name]
    return await getter(ref)


async def _list(st: AppState, res: Resource, request: Request) -> list[Row]:
    limit, offset = page_args(request)
    q = request.query_params
    filters = {p.name: q[p.name] for p in res.filters if q.get(p.name)}
    lister = {
        "creators": st.store.list_creators,
        "campaigns": st.store.list_campaigns,
        "links": st.store.list_links,
    }[res.name]
    if res.name == "links":
        for key, getter in (
            ("creator_id", st.store.get_creator),
            ("campaign_id", st.store.get_campaign),
        ):
            if key in filters:
                filters[key] = (await getter(filters[key]))["id"]
    return await lister(limit=limit, offset=offset, **filters)


def resource_routes(res: Resource) -> list[Route]:
    @doc(
        get=Op(f"List {res.name}", query=(*PAGE, *res.filters)),
        post=Op(f"Create a {res.one}", body=res.create_model, ok=(201,), conflict=True),
    )
    async def collection(request: Request) -> Response:
        await authenticate(request)
        st = state(request)
        if request.method == "POST":
            model = schemas.validate(
                res.create_model, await read_json(request, st.settings.max_body_bytes)
            )
            row = await _create(st, res, model)
            return JSONResponse(res.present(row, st.settings), status_code=201)
        limit, offset = page_args(request)
        rows = await _list(st, res, request)
        return JSONResponse(
            {"items": [res.present(r, st.settings) for r in rows], "limit": limit, "offset": offset}
        )

    @doc(
        get=Op(f"Get a {res.one}"),
        patch=Op(f"Update a {res.one}", body=res.patch_model, conflict=True),
        delete=Op(f"Disable a {res.one} (kept for history)"),
    )
    async def item(request: Request) -> Response:
        await authenticate(request)
        st = state(request)
        ref = request.path_params["ref"]
        if request.method == "GET":
            row = await _get(st, res, ref)
        elif request.method == "PATCH":
            model = schemas.validate(
                res.patch_model, await read_json(request, st.settings.max_body_bytes)
            )
            fields = schemas.to_row(model, only_set=True)
            row = await _update(st, res, ref, fields) if fields else await _get(st, res, ref)
        else:  # DELETE: disable, keep history
            row = await _update(st, res, ref, {"status": "disabled"})
        return JSONResponse(res.present(row, st.settings))

    return [
        Route(f"/{res.name}", collection, methods=["GET", "POST"]),
        Route(f"/{res.name}/{{ref:str}}", item, methods=["GET", "PATCH", "DELETE"]),
    ]


@doc(post=Op("Make one link per creator to one destination", body=schemas.LinkBulk, ok=(201,)))
async def link_bulk(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    model = schemas.validate(schemas.LinkBulk, await read_json(request, st.settings.max_body_bytes))
    rows = await links.bulk_create(st.store, st.settings, schemas.to_row(model))
    st.cache.invalidate(*(r["slug"] for r in rows))
    return JSONResponse(
        {"items": [links.present(r, st.settings) for r in rows], "created": len(rows)},
        status_code=201,
    )


@doc(get=Op("Click counts of a link"))
async def link_stats(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    link = await st.store.get_link(request.path_params["ref"])
    return JSONResponse(
        {"link_id": link["id"], "slug": link["slug"], **await st.store.link_stats(link["id"])}
    )


@doc(
    get=Op(
        "Recent clicks",
        query=(
            *PAGE,
            Param("link", description="link id or slug"),
            Param(
                "orphans",
                {"type": "boolean"},
                "visits to unknown slugs instead, counted per slug per hour "
                "(slug, hour, visits, bots, first_at, last_at)",
            ),
        ),
    )
)
async def list_clicks(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = page_args(request)
    link_ref = request.query_params.get("link")
    link_id = (await st.store.get_link(link_ref))["id"] if link_ref else None
    if request.query_params.get("orphans") in ("1", "true"):
        rows = await st.store.list_orphan_visits(limit=limit, offset=offset)
        return JSONResponse({"items": rows, "limit": limit, "offset": offset})
    rows = await st.store.list_clicks(link_id=link_id, limit=limit, offset=offset)
    return JSONResponse({"items": rows, "limit": limit, "offset": offset})


def routes() -> list[Route]:
    out: list[Route] = []
    for res in RESOURCES:
        out.extend(resource_routes(res))
    out.append(Route("/links/bulk", link_bulk, methods=["POST"]))
    out.append(Route("/links/{ref:str}/stats", link_stats, methods=["GET"]))
    out.append(Route("/clicks", list_clicks, methods=["GET"]))
    return out
