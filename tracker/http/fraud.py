"""JSON API for fraud flags: the list with evidence, a person's review (clear or confirm),
and a creator's own identities (emails, kept only as the keyed hash orders use)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import StringConstraints
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker import schemas
from tracker.core.errors import BadRequest, Unprocessable
from tracker.http.common import authenticate, page_args, read_json, state
from tracker.http.openapi import PAGE, Op, Param, doc
from tracker.orders.ingest import customer_hash

_STATUSES = ("open", "cleared", "confirmed")


class ReviewIn(schemas.Model):
    decision: Literal["clear", "confirm"]
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class IdentityIn(schemas.Model):
    creator_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]


def present(row: dict[str, object]) -> dict[str, object]:
    return {**row, "evidence": json.loads(str(row["evidence"]))}


@doc(
    get=Op(
        "Fraud flags with their evidence",
        query=(*PAGE, Param("status", {"type": "string", "enum": list(_STATUSES)})),
    )
)
async def flags(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    limit, offset = page_args(request)
    status = request.query_params.get("status")
    if status is not None and status not in _STATUSES:
        raise BadRequest(f"status must be one of {', '.join(_STATUSES)}")
    rows = await st.store.list_flags(status, limit, offset)
    return JSONResponse({"items": [present(r) for r in rows], "limit": limit, "offset": offset})


@doc(
    post=Op("Clear or confirm a fraud flag", body=ReviewIn, conflict=True),
)
async def review(request: Request) -> Response:
    await authenticate(request)
    st = state(request)
    m = schemas.validate(ReviewIn, await read_json(request, st.settings.max_body_bytes))
    row = await st.store.review_flag(request.path_params["ref"], m.decision, m.note)
    return JSONResponse(present(row))


@doc(
    post=Op(
        "Register a creator's own email (kept only as a keyed hash)", body=IdentityIn, ok=(201,)
    )
)
async def identities(request: Request) -> Response:
    """Register a creator's own email (hashed at once) so their purchases are flagged."""
    await authenticate(request)
    st = state(request)
    m = schemas.validate(IdentityIn, await read_json(request, st.settings.max_body_bytes))
    chash = customer_hash(st.settings.secret_key, m.email)
    if chash is None:
        raise Unprocessable("email: not an email address")
    creator = await st.store.get_creator(m.creator_id)
    await st.store.add_identity(creator["id"], chash)
    return JSONResponse({"creator_id": creator["id"], "registered": True}, status_code=201)


def routes() -> list[Route]:
    return [
        Route("/fraud/flags", flags, methods=["GET"]),
        Route("/fraud/flags/{ref:str}/review", review, methods=["POST"]),
        Route("/fraud/identities", identities, methods=["POST"]),
    ]
