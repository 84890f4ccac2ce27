"""A creator's own page: ``/c/{token}``, read-only, no admin session.

An admin makes a secret link per creator on the creator's admin page (shown once; only
SHA-256 of the token is stored) and can revoke it at any time. The page shows only that
creator's last 30 days: clicks, credited orders, attributed revenue and commission, from
the same ``tracker.reports`` functions as the ROI tables, and the orders they won that were
placed in those days (the latest 50; cancelled and refunded ones too, with their net and
whether they count). Brand-internal figures (fees,
ROI, other creators) are never on it. An unknown or revoked token is a plain 404, and the
page is neither cached nor indexed nor sent as a referrer.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from admin.charts import bar_chart
from admin.security import SecurityHeaders
from admin.tables import format_value
from admin.web import HERE
from tracker.reports import build as reports
from tracker.reports.params import Params
from tracker.reports.scoped import own_figures
from tracker.state import AppState
from tracker.store import Store
from tracker.store.engine import Row

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
#: the page lists at most this many of the range's orders, the latest
ORDERS_SHOWN = 50


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(store: Store, creator_id: str) -> str:
    """A new secret token for the creator's page; the caller shows it once."""
    token = secrets.token_urlsafe(32)
    await store.create_creator_page(creator_id, token_hash(token))
    return token


def _not_found() -> Response:
    return HTMLResponse(
        "<!doctype html><title>Not found</title><p>This page does not exist or its link "
        "was revoked.</p>",
        status_code=404,
    )


async def _orders_of_range(store: Store, creator_id: str, params: Params) -> list[Row]:
    """The orders the creator won placed in the page's range, newest first: one more than
    the page shows, to say whether there are more (read by index, never the history)."""
    return await store.list_orders(
        creator_id=creator_id,
        placed_from=params.start_at,
        placed_before=params.end_at,
        limit=ORDERS_SHOWN + 1,
    )


def create_creator_pages(state: AppState) -> Starlette:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
    )

    async def page(request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN_RE.match(token):
            return _not_found()
        found = await state.store.creator_page_by_hash(token_hash(token))
        if found is None:
            return _not_found()
        creator = await state.store.get_creator(found["creator_id"])
        params = reports.params_from({}, state.settings)
        row, currency, days = await own_figures(state.store, state.settings, params, creator["id"])
        labels = [d["day"] for d in days]
        chart = bar_chart(
            labels,
            [
                (("click (all)", "clicks (all)"), [d["clicks"] for d in days], "bar-all"),
                (("human click", "human clicks"), [d["human_clicks"] for d in days], "bar-human"),
            ],
            unit="clicks per day",
            title="Clicks per day",
        )
        orders = await _orders_of_range(state.store, creator["id"], params)
        html = env.get_template("creator_public.html").render(
            creator=creator,
            start=params.start.isoformat(),
            end=params.end.isoformat(),
            currency=currency,
            clicks=row.get("clicks", 0),
            human_clicks=row.get("human_clicks", 0),
            orders_credited=row.get("orders", 0),
            revenue=format_value(row.get("revenue_minor", 0), "money", currency),
            commission=format_value(row.get("cost_commission_minor", 0), "money", currency),
            chart=chart,
            # each order in its own currency's digits (1500 JPY, not 15.00)
            orders=[
                {**o, "net": format_value(o["net_minor"], "money", o["currency"])}
                for o in orders[:ORDERS_SHOWN]
            ],
            more_orders=len(orders) > ORDERS_SHOWN,
            orders_shown=ORDERS_SHOWN,
        )
        response = HTMLResponse(html)
        response.headers["x-robots-tag"] = "noindex, nofollow"
        return response

    return Starlette(
        routes=[Route("/{token:str}", page, methods=["GET"])],
        middleware=[
            Middleware(SecurityHeaders, hsts=state.settings.base_url.startswith("https://"))
        ],
    )
