"""Our own order postback, signed by the Standard Webhooks convention.

Headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256
of "id.timestamp.body">`` (several space-separated signatures allowed for key rotation,
5 minutes' tolerance both ways), verified by the ``standardwebhooks`` package so any sender
that speaks the convention (Svix and others) works unchanged. ``webhook-id`` is the
idempotency key. The body is an ``OrderPayload`` (below), either bare or wrapped as
``{"type": "order.updated", "timestamp": ..., "data": {...}}``. Shop secrets for this source
are ``whsec_`` + base64, as the convention requires.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from standardwebhooks import Webhook

from tracker.core import clock
from tracker.core.errors import Unauthorized, Unprocessable
from tracker.core.money import currency_code
from tracker.orders.model import Delivery, Order, Refund, query_param
from tracker.orders.sources import MAX_ID, Event, OrderEvent, header, load_json, obj
from tracker.schemas import Minor, Timestamp

Str64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
#: the one money rule of JSON bodies (``tracker.schemas.Minor``), with the money cap
Amount = Annotated[Minor, Field(ge=0, le=10**15)]


class RefundPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Str64
    amount_minor: Amount
    created_at: Timestamp | None = None


class OrderPayload(BaseModel):
    """The generic order: money in integer minor units of ``currency``."""

    model_config = ConfigDict(extra="ignore")
    order_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)]
    order_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    created_at: Timestamp
    updated_at: Timestamp | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    total_minor: Amount
    subtotal_minor: Amount | None = None
    discount_minor: Amount = 0
    status: Literal["pending", "paid", "cancelled", "refunded", "partially_refunded"] = "paid"
    discount_codes: list[Str64] = Field(default_factory=list, max_length=20)
    click_id: Str64 | None = None
    ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    user_agent: Annotated[str, StringConstraints(max_length=512)] | None = None
    accept_language: Annotated[str, StringConstraints(max_length=128)] | None = None
    landing_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    referring_site: Annotated[str, StringConstraints(max_length=2048)] | None = None
    customer_email: Annotated[str, StringConstraints(max_length=254)] | None = None
    new_customer: bool | None = None
    refunds: list[RefundPayload] = Field(default_factory=list, max_length=100)
    survey_answer: Annotated[str, StringConstraints(max_length=500)] | None = None


def check_secret(secret: str) -> str:
    raw = secret.removeprefix("whsec_")
    try:
        if len(base64.b64decode(raw + "==", validate=False)) < 16:
            raise ValueError
    except (binascii.Error, ValueError):
        raise Unprocessable(
            "secret: generic shops need a whsec_<base64> secret (>= 16 bytes)"
        ) from None
    return secret


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> None:
    wanted = {
        k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    if not all(wanted.values()):
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature")
    # The library checks a signature over text: a body that is not UTF-8 would only ever
    # read as a signature mismatch. Named for what it is (``ingest.handle``: a 422).
    body.decode("utf-8")
    for secret in secrets:
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
            return
        except Exception:  # the library raises several types for malformed input
            continue
    raise Unauthorized("webhook-signature does not match (or timestamp outside 5 minutes)")


def to_order(p: OrderPayload, click_param: str) -> Order:
    placed = clock.to_iso(p.created_at)
    updated = clock.to_iso(p.updated_at) if p.updated_at else placed
    currency = currency_code(p.currency)
    return Order(
        external_id=p.order_id,
        order_number=p.order_number,
        placed_at=placed,
        updated_at=updated,
        currency=currency,
        total_minor=p.total_minor,
        subtotal_minor=p.subtotal_minor if p.subtotal_minor is not None else p.total_minor,
        discount_minor=p.discount_minor,
        status=p.status,
        financial_status=p.status,
        cancelled_at=updated if p.status == "cancelled" else None,
        refunds=[
            Refund(r.id, r.amount_minor, clock.to_iso(r.created_at) if r.created_at else updated)
            for r in p.refunds
        ],
        codes=list(p.discount_codes),
        click_ids=[c for c in (p.click_id, query_param(p.landing_url, click_param)) if c],
        ip=p.ip,
        user_agent=p.user_agent,
        accept_language=p.accept_language,
        landing_site=p.landing_url,
        referring_site=p.referring_site,
        customer_email=p.customer_email,
        new_customer=p.new_customer,
        survey_answer=p.survey_answer,
    )


def parse(body: bytes, headers: Mapping[str, str], click_param: str) -> Event:
    doc = load_json(body)
    data = obj(doc)
    topic = str(data.get("type") or "order")[:64]
    if isinstance(data.get("data"), dict):
        data = data["data"]
    try:
        payload = OrderPayload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Unprocessable(f"{where}: {first['msg']}") from None
    order = to_order(payload, click_param)
    key = f"webhook:{header(headers, 'webhook-id')}"
    return OrderEvent(order, Delivery("generic", [key], topic, body.decode(), doc=doc))
