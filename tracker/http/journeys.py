"""Portfolio insights over HTTP (issue 20): the data-driven model's fit, cumulative exposure,
collaborations (CRUD and their report) and survey answers (the halo, and a "try it").

Every report takes the query of ``GET /reports/{dimension}`` (start, end, lookbacks; the
model where credit is involved). These routes join the table before ``/reports/{dimension}``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.http.common import authenticate, query_int, read_json, state
from tracker.http.openapi import REF, Op, Param, doc
from tracker.http.reports import REPORT_QUERY
from tracker.reports import build as reports
from tracker.reports import collabs, exposure, paths, survey

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_RANGE = tuple(q for q in REPORT_QUERY if q.name != "model")


class ShareIn(schemas.Model):
    creator: Name = Field(description="creator id or handle")
    share_bp: int = Field(ge=1, le=10_000, description="basis points; all shares sum to 10000")


class CollabIn(schemas.Model):
    name: Name
    link: Name | None = Field(default=None, description="link id or slug (or give a code)")
    code: Name | None = Field(default=None, description="discount code (or give a link)")
    shares: list[ShareIn] = Field(min_length=2, max_length=50)


class CollabPatch(schemas.Model):
    shares: list[ShareIn] = Field(min_length=2, max_length=50)


class SurveyIn(schemas.Model):
    answer: Annotated[str, StringConstraints(min_length=1, max_length=500)]


@doc(
    get=Op(
        "Data-driven attribution: the Markov removal effect per creator over the range, "
        "or the reason it falls back to position-based",
        query=_RANGE,
    )
)
async def data_driven(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = replace(reports.params_from(dict(request.query_params), st.settings), model="data_driven")
    fit, creators = await reports.data_driven_fit(st.store, p)
    labels = {k: str(v.get("handle", k)) for k, v in creators.items()}
    return JSONResponse(
        {
            "start": p.start.isoformat(),
            "end": p.end.isoformat(),
            **paths.describe(fit, labels, top=500),
        }
    )


@doc(
    get=Op(
        "Cumulative exposure: conversion and revenue per visitor by creators and clicks met "
        "before buying, portfolio-wide and per tier, with the saturation point",
        query=(
            *_RANGE,
            Param(
                "min_visitors",
                {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                "visitors an exposure level needs to count (default 30)",
            ),
        ),
    )
)
async def exposure_report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    least = query_int(request, "min_visitors", exposure.MIN_VISITORS, 1, 1_000_000)
    return JSONResponse(await exposure.report(st.store, p, least))


@doc(get=Op("Collaborations as their own rows, with each member's split", query=REPORT_QUERY))
async def collab_report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await collabs.report(st.store, st.settings, p))


@doc(get=Op("Survey-claimed versus tracked creators (the halo)", query=_RANGE))
async def survey_report(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    p = reports.params_from(dict(request.query_params), st.settings)
    return JSONResponse(await survey.report(st.store, p, st.settings.survey_min_score))


@doc(post=Op("Which creator a survey answer names (and how surely)", body=SurveyIn))
async def survey_match(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    m = schemas.validate(SurveyIn, await read_json(request, st.settings.max_body_bytes))
    return JSONResponse(await survey.match_one(st.store, m.answer, st.settings.survey_min_score))


@doc(
    get=Op("List collaborations"),
    post=Op("Create a collaboration on a link or a code", body=CollabIn, ok=(201,), conflict=True),
)
async def collab_list(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    if request.method == "GET":
        return JSONResponse({"items": await st.store.list_collabs()})
    m = schemas.validate(CollabIn, await read_json(request, st.settings.max_body_bytes))
    row = await collabs.create(
        st.store, m.name, m.link, m.code, [(s.creator, s.share_bp) for s in m.shares]
    )
    return JSONResponse(row, status_code=201)


@doc(
    get=Op("One collaboration", path=(REF,)),
    patch=Op(
        "New shares for a collaboration (its past orders' commissions are re-synced)",
        path=(REF,),
        body=CollabPatch,
    ),
    delete=Op(
        "Delete a collaboration (reports stop splitting its credit; its past orders' "
        "commissions are re-synced)",
        path=(REF,),
        ok=(204,),
    ),
)
async def collab_item(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    ref = request.path_params["ref"]
    if request.method == "DELETE":
        await collabs.delete(st.store, ref)
        return Response(status_code=204)
    if request.method == "PATCH":
        m = schemas.validate(CollabPatch, await read_json(request, st.settings.max_body_bytes))
        shares = [(s.creator, s.share_bp) for s in m.shares]
        return JSONResponse(await collabs.edit(st.store, ref, shares))
    return JSONResponse(await st.store.get_collab(ref))


def routes() -> list[Route]:
    return [
        Route("/reports/data-driven", data_driven, methods=["GET"]),
        Route("/reports/exposure", exposure_report, methods=["GET"]),
        Route("/reports/collabs", collab_report, methods=["GET"]),
        Route("/reports/survey", survey_report, methods=["GET"]),
        Route("/survey/match", survey_match, methods=["POST"]),
        Route("/collabs", collab_list, methods=["GET", "POST"]),
        Route("/collabs/{ref:str}", collab_item, methods=["GET", "PATCH", "DELETE"]),
    ]
