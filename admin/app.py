"""The admin sub-app: ``create_admin(state)`` builds it; ``tracker.app`` mounts it at /admin.

Every route goes through ``guard``, so no handler can forget a check:
  1. the session is read from the signed cookie (a new anonymous id is issued if absent);
  2. an unsafe method (POST) must carry the CSRF token of that session, else 403;
  3. a page that is not public needs a logged-in user (GET: redirect to the login form);
  4. an unsafe method needs the admin role (viewers are read-only), else 403,
     except logout, which every user may do.
Errors render as HTML pages with the error's own status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from admin import (
    audience_view,
    auth,
    catalogue_lists,
    commerce,
    commissions_view,
    costs_view,
    events_view,
    imports_view,
    insights_view,
    journeys_view,
    link_page,
    orders_view,
    pages,
    portfolio_view,
    reach_view,
    reports_view,
)
from admin.security import SecurityHeaders
from admin.sessions import COOKIE, Session
from admin.web import HERE, Admin, admin, base, check_url, read_form, render
from tracker.core.errors import Forbidden, Rejected, TooManyRequests
from tracker.http.errors import status_of
from tracker.state import AppState

log = logging.getLogger("tracker.admin")
Handler = Callable[[Request], Awaitable[Response]]
SAFE_METHODS = ("GET", "HEAD")


def guard(endpoint: Handler, *, public: bool = False, any_role_may_post: bool = False) -> Handler:
    async def handler(request: Request) -> Response:
        a = admin(request)
        sess = await a.sessions.load(request.cookies.get(COOKIE))
        request.state.session = sess
        try:
            check_url(request)
            if request.method not in SAFE_METHODS:
                form = await read_form(request)
                token = form.get("csrf") or request.headers.get("x-csrf-token")
                if not a.sessions.csrf_ok(sess, token if isinstance(token, str) else None):
                    raise Forbidden("missing or invalid CSRF token: reload the page and retry")
            if not public and sess.user is None:
                if request.method in SAFE_METHODS:
                    target = request.url.path + (
                        f"?{request.url.query}" if request.url.query else ""
                    )
                    return _set_cookie(
                        a,
                        RedirectResponse(
                            f"{base(request)}/login?next={quote(target, safe='')}", 303
                        ),
                        sess,
                    )
                raise Forbidden("log in first")
            if (
                request.method not in SAFE_METHODS
                and not public
                and not any_role_may_post
                and not sess.is_admin
            ):
                raise Forbidden("your role is read-only (viewer): changes are not allowed")
            response = await endpoint(request)
        except Rejected as exc:
            response = error_page(request, exc)
        finally:
            spooled = getattr(request.state, "form", None)
            if spooled is not None:
                await spooled.close()  # spooled upload files
        return _set_cookie(a, response, sess)

    handler.__name__ = endpoint.__name__
    return handler


def _set_cookie(a: Admin, response: Response, sess: Session) -> Response:
    """Send the session id when it is new (first visit, login, logout)."""
    if sess.issue_cookie:
        response.set_cookie(
            value=a.sessions.cookie_value(sess.sid),
            **a.sessions.cookie_options(logged_in=sess.user is not None),
        )
    return response


def error_page(request: Request, exc: Rejected) -> Response:
    status = status_of(exc)
    if status in (401, 403, 429):
        log.info("admin refused %s %s: %s %s", request.method, request.url.path, status, exc.reason)
    response = render(request, "error.html", status=status, error=exc, error_status=status)
    if isinstance(exc, TooManyRequests):
        response.headers["retry-after"] = str(exc.retry_after)
    return response


def create_admin(state: AppState) -> Starlette:
    # long: the panel's route table, one line per route
    G = guard
    routes = [
        Route("/login", G(auth.login_form, public=True), methods=["GET"]),
        Route("/login", G(auth.login, public=True), methods=["POST"]),
        Route("/logout", G(auth.logout, any_role_may_post=True), methods=["POST"]),
        Route("/", G(pages.dashboard), methods=["GET"]),
        Route("/creators", G(pages.creators), methods=["GET"]),
        Route("/creators", G(pages.create_creator), methods=["POST"]),
        Route("/creators/{ref:str}", G(pages.creator_detail), methods=["GET"]),
        Route("/creators/{ref:str}", G(pages.update_creator), methods=["POST"]),
        Route("/creators/{ref:str}/page", G(pages.create_creator_page), methods=["POST"]),
        Route("/creator-pages/{ref:str}/revoke", G(pages.revoke_creator_page), methods=["POST"]),
        Route("/campaigns", G(catalogue_lists.campaigns), methods=["GET"]),
        Route("/campaigns", G(catalogue_lists.create_campaign), methods=["POST"]),
        Route("/campaigns/{ref:str}", G(catalogue_lists.campaign_page), methods=["GET"]),
        Route("/campaigns/{ref:str}", G(catalogue_lists.update_campaign), methods=["POST"]),
        Route("/links", G(pages.links), methods=["GET"]),
        Route("/links", G(pages.create_link), methods=["POST"]),
        Route("/links/bulk", G(pages.bulk_links), methods=["POST"]),
        Route("/links/{ref:str}/status", G(pages.set_link_status), methods=["POST"]),
        Route("/links/{ref:str}", G(link_page.link_page), methods=["GET"]),
        Route("/links/{ref:str}", G(link_page.update_link), methods=["POST"]),
        Route("/links/{ref:str}/targeting", G(link_page.edit_targeting), methods=["POST"]),
        Route("/tokens", G(catalogue_lists.tokens), methods=["GET"]),
        Route("/tokens", G(catalogue_lists.create_token), methods=["POST"]),
        Route("/tokens/{ref:str}/revoke", G(catalogue_lists.revoke_token), methods=["POST"]),
        Route("/import", G(imports_view.import_form), methods=["GET"]),
        Route("/import", G(imports_view.import_creators), methods=["POST"]),
        Route("/reports", G(reports_view.roi_page), methods=["GET"]),
        Route("/settings", G(pages.settings_page), methods=["GET"]),
        Route("/portfolio", G(portfolio_view.overview_page), methods=["GET"]),
        Route("/reach", G(reach_view.reach_page), methods=["GET"]),
        Route("/audience", G(audience_view.audience_page), methods=["GET"]),
        Route("/portfolio/overlap", G(portfolio_view.overlap_page), methods=["GET"]),
        Route("/portfolio/leaks", G(portfolio_view.leaks_page), methods=["GET"]),
        Route("/portfolio/advice", G(portfolio_view.advice_page), methods=["GET"]),
        Route("/codes", G(commerce.codes_page), methods=["GET"]),
        Route("/codes", G(commerce.create_code), methods=["POST"]),
        Route("/codes.csv", G(commerce.codes_csv), methods=["GET"]),
        Route("/codes/bulk", G(commerce.bulk_codes), methods=["POST"]),
        Route("/codes/{ref:str}/status", G(commerce.set_code_status), methods=["POST"]),
        Route("/codes/{ref:str}", G(commerce.code_page), methods=["GET"]),
        Route("/codes/{ref:str}", G(commerce.update_code), methods=["POST"]),
        Route("/orders", G(orders_view.orders_page), methods=["GET"]),
        Route("/orders/assign-code", G(orders_view.assign_code), methods=["POST"]),
        Route("/orders/{ref:str}", G(orders_view.order_detail), methods=["GET"]),
        Route("/costs", G(costs_view.costs_page), methods=["GET"]),
        Route("/costs", G(costs_view.add_cost), methods=["POST"]),
        Route("/costs/import", G(costs_view.import_csv), methods=["POST"]),
        Route("/shops", G(commerce.shops_page), methods=["GET"]),
        Route("/shops", G(commerce.create_shop), methods=["POST"]),
        Route("/shops/{ref:str}", G(commerce.shop_detail), methods=["GET"]),
        Route("/shops/{ref:str}/rotate", G(commerce.rotate_secret), methods=["POST"]),
        Route("/shops/{ref:str}/pixel", G(commerce.set_pixel), methods=["POST"]),
        Route("/shops/{ref:str}/status", G(commerce.set_shop_status), methods=["POST"]),
        *events_view.routes(G),
        *commissions_view.routes(G),
        *insights_view.routes(G),
        *journeys_view.routes(G),
        *(
            Route(f"/{name}", G(pages.placeholder(name)), methods=["GET"])
            for name in pages.PLACEHOLDERS
        ),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, hsts=state.settings.base_url.startswith("https://"))
        ],
    )
    app.state.admin = Admin(state)
    return app
