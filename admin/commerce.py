"""Codes and shops pages: thin handlers over ``tracker.codes`` and ``tracker.api_shops``.

Codes: list (filter by creator, campaign, status), create one, bulk generate, disable or
enable, CSV export (``tracker.codes.csv_rows``, the same file the API gives).
Shops: create (secret and pixel token shown once, in the response to the POST, never in a
URL and never again), postback URLs to paste, secret rotation (the old secret keeps working
once more), recent deliveries from the store and rejections from ``state.rejections``.
"""

from __future__ import annotations

from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response

from admin.tables import Column, Table
from admin.tables import csv_response as table_csv
from admin.web import (
    PAGE_SIZE,
    Page,
    admin,
    base,
    form_dict,
    handles_of,
    page_number,
    query_with,
    read_form,
    redirect,
    render,
    sent_fields,
)
from tracker import schemas
from tracker.catalogue import codes
from tracker.catalogue import shops as shop_of
from tracker.core import money
from tracker.core.errors import Conflict, NotFound, Rejected, Unprocessable
from tracker.http.common import csv_response
from tracker.http.errors import status_of
from tracker.schemas import validate

CODE_FIELDS = ("code", "creator_id", "campaign_id", "value_type", "value", "currency")
BULK_FIELDS = ("campaign_id", "pattern", "number", "prefix", "length", "value_type", "value")


async def _code_filters(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """Query -> (what the form shows, store filters); an unknown creator/campaign is a 404."""
    a = admin(request)
    qp = request.query_params
    shown = {k: qp.get(k, "").strip()[:100] for k in ("q", "creator", "campaign", "status")}
    filters: dict[str, Any] = {"q": shown["q"]}
    if shown["status"] in ("active", "disabled"):
        filters["status"] = shown["status"]
    if shown["creator"]:
        filters["creator_id"] = (await a.store.get_creator(shown["creator"].lstrip("@")))["id"]
    if shown["campaign"]:
        filters["campaign_id"] = (await a.store.get_campaign(shown["campaign"]))["id"]
    return shown, filters


async def codes_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    bulk_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
    created: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    a = admin(request)
    shown, filters = await _code_filters(request)
    number = page_number(request)
    rows, total = await a.store.panel_codes(
        limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **filters
    )
    return render(
        request,
        "codes.html",
        status=status,
        active="codes",
        items=[{**r, "value_text": value_text(r)} for r in rows],
        page=Page(number, PAGE_SIZE, total),
        query_with=lambda **kw: query_with(request, **kw),
        filters=shown,
        campaigns=await a.store.list_campaigns(limit=500),
        csv_url=f"{base(request)}/codes.csv{query_with(request, page='')}",
        form_error=form_error,
        bulk_error=bulk_error,
        form=form_values or {},
        created=created,
    )


async def create_code(request: Request) -> Response:
    form = await read_form(request)
    values = form_dict(form, CODE_FIELDS)
    try:
        model = validate(
            schemas.CodeIn,
            codes.value_from_major(
                {**values, "creator_id": values.get("creator_id", "").lstrip("@")}
            ),
        )
        await codes.create_code(admin(request).store, schemas.to_row(model))
    except (Unprocessable, Conflict) as exc:
        return await codes_page(request, form_error=exc, form_values=values, status=status_of(exc))
    return redirect(request, "/codes", msg="created")


async def bulk_codes(request: Request) -> Response:
    form = await read_form(request)
    values: dict[str, Any] = form_dict(form, BULK_FIELDS)
    raw = str(form.get("creators") or "")
    handles = handles_of(raw)
    if handles:
        values["creators"] = handles
    try:
        model = validate(schemas.CodeBulk, values)
        rows = await codes.bulk_generate(admin(request).store, model.model_dump())
    except (Unprocessable, Conflict, NotFound) as exc:
        err = exc if not isinstance(exc, NotFound) else Unprocessable(f"creators: {exc.reason}")
        return await codes_page(request, bulk_error=err, form_values=values, status=status_of(err))
    return await codes_page(request, created=rows, status=201)


async def code_page(
    request: Request, *, form_error: Rejected | None = None, form: dict[str, Any] | None = None
) -> Response:
    """A code's facts and its edit form: campaign, value and status (its text and creator
    stay: orders were matched by them)."""
    a = admin(request)
    code = await a.store.get_code(request.path_params["ref"])
    creator = await a.store.get_creator(code["creator_id"])
    value = code.get("value")
    shown = {
        **code,
        "value_text": value_text(code),
        "value": money.major(int(value), code.get("currency") or "USD")
        if value is not None and code.get("value_type") == "fixed"
        else ("" if value is None else str(value)),
    }
    return render(
        request,
        "code.html",
        status=status_of(form_error) if form_error else 200,
        active="codes",
        code=shown,
        creator=creator,
        campaign=await a.store.get_campaign(code["campaign_id"])
        if code.get("campaign_id")
        else None,
        campaigns=await a.store.list_campaigns(limit=500),
        form_error=form_error,
        form=form or {},
    )


async def update_code(request: Request) -> Response:
    """Every field is sent: an emptied campaign, value type or value clears it. Through
    ``CodePatch`` and the code's money rule, as the API and the CLI."""
    a = admin(request)
    code = await a.store.get_code(request.path_params["ref"])
    form = await read_form(request)
    values = sent_fields(form, ("campaign_id", "value_type", "value", "currency", "status"))
    try:
        fields: dict[str, Any] = {k: v or None for k, v in values.items()}
        model = validate(schemas.CodePatch, codes.value_from_major(fields))
        changed = await a.store.resolve_creator_campaign(schemas.to_row(model, only_set=True))
        await a.store.update_code(code["id"], changed)
    except (Unprocessable, Conflict) as exc:
        return await code_page(request, form_error=exc, form={**values, "edit": "1"})
    return redirect(request, f"/codes/{code['id']}", msg="saved")


async def set_code_status(request: Request) -> Response:
    form = await read_form(request)
    status = str(form.get("status") or "")
    if status not in ("active", "disabled"):
        raise Unprocessable("status: active or disabled")
    await admin(request).store.update_code(request.path_params["ref"], {"status": status})
    return redirect(request, "/codes", msg="saved")


def value_text(code: dict[str, Any]) -> str:
    """15 % or 10.00 USD (a fixed value is stored in minor units of its currency)."""
    if code.get("value") is None or not code.get("value_type"):
        return ""
    if code["value_type"] == "percent":
        return f"{code['value']} %"
    currency = code.get("currency") or ""
    return f"{money.major(int(code['value']), currency or 'USD')} {currency}".strip()


async def codes_csv(request: Request) -> Response:
    _, filters = await _code_filters(request)
    rows, _ = await admin(request).store.panel_codes(limit=1_000_000, **filters)
    return csv_response(codes.CSV_COLUMNS, codes.csv_rows(rows), "codes.csv")


# -- shops ----------------------------------------------------------------------------------
SHOP_FIELDS = ("slug", "name", "platform", "secret", "currency", "pixel")
PASTE_HELP = {
    "shopify": "Shopify admin > Settings > Notifications > Webhooks: create webhooks for "
    "Order creation, Order update and Refund create, format JSON, with this URL. Paste the "
    "signing secret Shopify shows into the secret field when you create the shop here.",
    "woocommerce": "WooCommerce > Settings > Advanced > Webhooks: add webhooks for Order "
    "created and Order updated, delivery URL below, and the secret shown once here.",
    "generic": "Any system that signs with Standard Webhooks (webhook-id, webhook-timestamp, "
    "webhook-signature headers): POST JSON to the URL below, signed with the secret.",
}


async def shops_page(
    request: Request,
    *,
    form_error: Rejected | None = None,
    form_values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    st = admin(request).state
    qp = request.query_params
    shown = {k: qp.get(k, "").strip()[:100] for k in ("q", "platform", "status")}
    if shown["platform"] not in SHOP_PLATFORMS:
        shown["platform"] = ""
    if shown["status"] not in ("active", "disabled"):
        shown["status"] = ""
    csv = qp.get("format") == "csv"
    number = page_number(request)
    rows, total = await st.store.panel_shops(
        **shown,
        limit=100_000 if csv else PAGE_SIZE,
        offset=0 if csv else (number - 1) * PAGE_SIZE,
    )
    items = [shop_of.present(r, st.settings.base_url, st.settings.secret_grace_hours) for r in rows]
    if csv:
        return table_csv(Table(SHOP_COLUMNS, items), "shops.csv")
    return render(
        request,
        "shops.html",
        status=status,
        active="shops",
        items=items,
        filters=shown,
        platforms=SHOP_PLATFORMS,
        page=Page(number, PAGE_SIZE, total),
        query_with=lambda **kw: query_with(request, **kw),
        csv_url=query_with(request, format="csv", page=""),
        form_error=form_error,
        form=form_values or {},
    )


SHOP_PLATFORMS = get_args(schemas.ShopPlatform)
SHOP_COLUMNS = [
    Column("slug", "Slug"),
    Column("name", "Name"),
    Column("platform", "Platform"),
    Column("currency", "Currency"),
    Column("postback_url", "Postback URL"),
    Column("status", "Status"),
]


async def shop_detail(request: Request, *, revealed: dict[str, str] | None = None) -> Response:
    st = admin(request).state
    shop = shop_of.present(
        await st.store.get_shop(request.path_params["ref"]),
        st.settings.base_url,
        st.settings.secret_grace_hours,
    )
    return render(
        request,
        "shop.html",
        status=201 if revealed else 200,
        active="shops",
        shop=shop,
        help=PASTE_HELP.get(shop["platform"], ""),
        deliveries=await st.store.recent_deliveries(shop["id"], 50),
        rejections=list(st.rejections.get(shop["slug"], []))[:50],
        revealed=revealed,
    )


async def create_shop(request: Request) -> Response:
    st = admin(request).state
    form = await read_form(request)
    values = form_dict(form, SHOP_FIELDS)
    try:
        model = validate(schemas.ShopIn, values)
        row, revealed = await shop_of.create(st.store, schemas.to_row(model))
    except (Unprocessable, Conflict) as exc:
        values.pop("secret", None)  # never echoed back into a page
        return await shops_page(request, form_error=exc, form_values=values, status=status_of(exc))
    request.path_params["ref"] = row["id"]
    # Shown once: in this response only. Later views of the shop never show them.
    return await shop_detail(request, revealed=revealed)


async def rotate_secret(request: Request) -> Response:
    """A new secret, shown once; the previous one keeps verifying for the grace period.
    Shopify chooses its own signing secret, so for Shopify the new one must be pasted; for
    WooCommerce and generic shops an empty field means 'generate one'."""
    st = admin(request).state
    form = await read_form(request)
    typed = str(form.get("secret") or "").strip()
    shop, secret = await shop_of.rotate(st.store, request.path_params["ref"], typed or None)
    request.path_params["ref"] = shop["id"]
    return await shop_detail(request, revealed={"secret": secret})


async def set_pixel(request: Request) -> Response:
    """The pixel on with a new token (shown once; the old one stops at once), or off."""
    st = admin(request).state
    form = await read_form(request)
    wanted = str(form.get("pixel") or "")
    if wanted not in ("on", "off"):
        raise Unprocessable("pixel: on or off")
    shop, token = await shop_of.set_pixel(st.store, request.path_params["ref"], wanted == "on")
    if token is None:
        return redirect(request, f"/shops/{shop['id']}", msg="saved")
    request.path_params["ref"] = shop["id"]
    return await shop_detail(request, revealed={"pixel_token": token})


async def set_shop_status(request: Request) -> Response:
    form = await read_form(request)
    status = str(form.get("status") or "")
    if status not in ("active", "disabled"):
        raise Unprocessable("status: active or disabled")
    shop = await admin(request).store.update_shop(request.path_params["ref"], {"status": status})
    return redirect(request, f"/shops/{shop['id']}", msg="saved")
