"""OpenAPI paths of the events, commissions and fraud routes (merged by ``openapi.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tracker.commissions.ledger import PayoutIn, RuleIn
from tracker.events.endpoints import EndpointIn, EndpointPatch, ReplayIn
from tracker.http.fraud import IdentityIn, ReviewIn

MODELS: tuple[type[BaseModel], ...] = (
    EndpointIn,
    EndpointPatch,
    ReplayIn,
    RuleIn,
    PayoutIn,
    ReviewIn,
    IdentityIn,
)


def paths(ok: dict[str, Any], err: dict[str, Any], page: list[dict[str, Any]]) -> dict[str, Any]:
    common = {"401": err, "404": err, "422": err, "400": err}
    ref = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
    csv_ok = {
        "description": "CSV",
        "content": {"text/csv; charset=utf-8": {"schema": {"type": "string"}}},
    }

    def body(model: type[BaseModel]) -> dict[str, Any]:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def q(name: str, **schema: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema or {"type": "string"}}

    day = {"type": "string", "format": "date"}
    period = [q("start", **day), q("end", **day)]
    return {
        "/api/v1/webhooks": {
            "get": {
                "summary": "Webhook endpoints",
                "parameters": page,
                "responses": {"200": ok, **common},
            },
            "post": {
                "summary": "Register an endpoint (the answer holds its secret, shown once)",
                "requestBody": body(EndpointIn),
                "responses": {"201": ok, **common},
            },
        },
        "/api/v1/webhooks/{ref}": {
            "parameters": [ref],
            "get": {"summary": "An endpoint", "responses": {"200": ok, **common}},
            "patch": {
                "summary": "Change, enable, disable or rotate the secret of an endpoint",
                "requestBody": body(EndpointPatch),
                "responses": {"200": ok, **common},
            },
            "delete": {
                "summary": "Delete an endpoint and its log",
                "responses": {"200": ok, **common},
            },
        },
        "/api/v1/webhooks/{ref}/deliveries": {
            "parameters": [ref],
            "get": {
                "summary": "Deliveries to an endpoint",
                "parameters": [
                    *page,
                    q("status", type="string", enum=["pending", "delivered", "failed"]),
                ],
                "responses": {"200": ok, **common},
            },
        },
        "/api/v1/webhooks/{ref}/attempts": {
            "parameters": [ref],
            "get": {
                "summary": "The delivery log",
                "parameters": page,
                "responses": {"200": ok, **common},
            },
        },
        "/api/v1/webhooks/{ref}/replay": {
            "parameters": [ref],
            "post": {
                "summary": "Re-send one event, or every failed delivery",
                "requestBody": body(ReplayIn),
                "responses": {"202": ok, **common},
            },
        },
        "/api/v1/events": {
            "get": {
                "summary": "Events (the outbox)",
                "parameters": [*page, q("type"), q("subject")],
                "responses": {"200": ok, **common},
            }
        },
        "/api/v1/events/{ref}": {
            "parameters": [ref],
            "get": {"summary": "An event", "responses": {"200": ok, **common}},
        },
        "/api/v1/commissions": {
            "get": {
                "summary": "Ledger entries",
                "parameters": [*page, q("creator"), q("order"), *period],
                "responses": {"200": ok, **common},
            }
        },
        "/api/v1/commissions.csv": {
            "get": {
                "summary": "Ledger entries as CSV",
                "parameters": [q("creator"), q("order"), *period],
                "responses": {"200": csv_ok, **common},
            }
        },
        "/api/v1/commissions/rules": {
            "get": {
                "summary": "Commission rules",
                "parameters": [q("creator")],
                "responses": {"200": ok, **common},
            },
            "post": {
                "summary": "Add a rule",
                "requestBody": body(RuleIn),
                "responses": {"201": ok, **common},
            },
        },
        "/api/v1/commissions/statement": {
            "get": {
                "summary": "Statement per creator and currency",
                "parameters": period,
                "responses": {"200": ok, **common},
            }
        },
        "/api/v1/commissions/statement.csv": {
            "get": {
                "summary": "Statement as CSV",
                "parameters": period,
                "responses": {"200": csv_ok, **common},
            }
        },
        "/api/v1/commissions/approve": {
            "post": {
                "summary": "Approve what the refund window allows now",
                "responses": {"200": ok, **common},
            }
        },
        "/api/v1/commissions/payouts": {
            "get": {
                "summary": "Payouts",
                "parameters": [*page, q("creator")],
                "responses": {"200": ok, **common},
            },
            "post": {
                "summary": "Mark paid",
                "requestBody": body(PayoutIn),
                "responses": {"201": ok, **common},
            },
        },
        "/api/v1/fraud/flags": {
            "get": {
                "summary": "Fraud flags with their evidence",
                "parameters": [
                    *page,
                    q("status", type="string", enum=["open", "cleared", "confirmed"]),
                ],
                "responses": {"200": ok, **common},
            }
        },
        "/api/v1/fraud/flags/{ref}/review": {
            "parameters": [ref],
            "post": {
                "summary": "Clear or confirm a flag",
                "requestBody": body(ReviewIn),
                "responses": {"200": ok, "409": err, **common},
            },
        },
        "/api/v1/fraud/identities": {
            "post": {
                "summary": "Register a creator's own email (kept only as a keyed hash)",
                "requestBody": body(IdentityIn),
                "responses": {"201": ok, **common},
            }
        },
    }
