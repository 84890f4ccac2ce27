"""What every admin handler shares: the request's session, form reading, rendering, paging.

``Admin`` is the sub-app's state (templates, sessions, the tracker's ``AppState``); a handler
reaches it through ``admin(request)`` and its visitor through ``session(request)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from admin.sessions import Session, Sessions
from admin.tables import Table, csv_response
from tracker.core import money
from tracker.core.errors import BadRequest, PayloadTooLarge
from tracker.state import AppState
from tracker.store import Store

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50

#: Messages a redirect may ask the next page to show (by key, so nothing is reflected).
MESSAGES = {
    "created": "Created.",
    "saved": "Saved.",
    "revoked": "Token revoked.",
    "logged_out": "You are logged out.",
    "link_created": "Link created.",
    "links_created": "Links created, one per creator: listed below (Export CSV for all).",
    "code_assigned": "Code assigned; the orders that carried it were matched again.",
}

NAV = [
    ("dashboard", "Dashboard", "/"),
    ("creators", "Creators", "/creators"),
    ("campaigns", "Campaigns", "/campaigns"),
    ("links", "Links", "/links"),
    ("codes", "Codes", "/codes"),
    ("shops", "Shops", "/shops"),
    ("orders", "Orders", "/orders"),
    ("costs", "Costs", "/costs"),
    ("reports", "ROI", "/reports"),
    ("portfolio", "Portfolio", "/portfolio"),
    ("commissions", "Commissions", "/commissions"),
    ("fraud", "Fraud", "/fraud"),
    ("webhooks", "Webhooks", "/webhooks"),
    ("import", "Import", "/import"),
    ("tokens", "API tokens", "/tokens"),
    ("settings", "Settings", "/settings"),
]


def _number(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def quantity(value: Any, noun: str, many: str = "") -> str:
    """A count with its noun, singular or plural: ``1 order``, ``2 orders``, ``1,500
    clicks`` (``many``: an irregular plural). The panel's one rule for a count in words:
    the template filter ``quantity`` (``{{ n | quantity('order') }}``) and the notes built in
    Python."""
    try:
        one = float(value) == 1
    except (TypeError, ValueError):
        one = False
    return f"{_number(value)} {noun if one else (many or noun + 's')}"


class Admin:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.sessions = Sessions(state.settings, state)
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["number"] = _number
        self.env.filters["quantity"] = quantity

    @property
    def settings(self) -> Any:
        return self.state.settings

    @property
    def store(self) -> Store:
        return self.state.store

    async def store_credentials(self, email_key: str) -> dict[str, Any] | None:
        return await self.state.store.admin_credentials(email_key)


def admin(request: Request) -> Admin:
    a: Admin = request.app.state.admin
    return a


def session(request: Request) -> Session:
    s: Session = request.state.session
    return s


def base(request: Request) -> str:
    """The prefix the sub-app is mounted under ('/admin')."""
    return str(request.scope.get("root_path", "")).rstrip("/")


async def read_form(request: Request) -> FormData:
    """The request's form, parsed once; ``admin.app.guard`` closes its uploads afterwards."""
    cached: FormData | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    limit = admin(request).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"form larger than {limit} bytes")
    try:
        form = await request.form(max_files=2, max_fields=200, max_part_size=limit)
    except Exception as exc:  # malformed multipart, part too large
        raise BadRequest(f"could not read the form: {exc}") from None
    request.state.form = form
    if any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items()):
        raise BadRequest("a form field contains a NUL character")
    return form


def check_url(request: Request) -> None:
    """NUL has no business in a URL, and PostgreSQL text refuses it: 400, not a 500."""
    if "\x00" in request.scope.get("path", "") or any(
        "\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()
    ):
        raise BadRequest("the URL contains a NUL character")


def _typed(name: str, value: str) -> str:
    """A field as typed, stripped; a currency upper-cased as people type it ("eur" is EUR:
    ``money.typed_currency``), the ISO 4217 rule then checking what is left."""
    value = value.strip()
    return money.typed_currency(value) if name == "currency" else value


def sent_fields(form: FormData, names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Every named field of an edit form, stripped: '' where it was emptied (the caller
    clears that value), unlike ``form_dict``'s "empty means the default"."""
    return {n: _typed(n, str(form.get(n) or "")) for n in names}


def handles_of(text: str) -> list[str]:
    """Creators typed one per line or comma-separated, with or without their '@'."""
    return [h.strip().lstrip("@") for h in text.replace(",", "\n").splitlines() if h.strip()]


def form_dict(form: FormData, names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The named text fields that were filled in (empty means 'use the default')."""
    out = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            out[name] = _typed(name, value)
    return out


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    a = admin(request)
    sess = session(request)
    msg = MESSAGES.get(request.query_params.get("msg", ""))
    page = a.env.get_template(template).render(
        request=request,
        base=base(request),
        user=sess.user,
        is_admin=sess.is_admin,
        csrf=a.sessions.csrf_token(sess),
        nav=NAV,
        message=msg,
        base_url=a.settings.base_url,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def redirect(request: Request, path: str, **query: str) -> Response:
    sep = "&" if "?" in path else "?"
    url = base(request) + path + ((sep + urlencode(query)) if query else "")
    return RedirectResponse(url, status_code=303)


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_item(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.total)


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**6 else 1


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (for sort and page links)."""
    params = dict(request.query_params)
    params.pop("msg", None)
    for k, v in changes.items():
        if v is None or v == "":
            params.pop(k, None)
        else:
            params[k] = str(v)
    return "?" + urlencode(params) if params else "?"


#: The most rows a CSV export holds (a list's export is every row its filters select).
CSV_MAX = 100_000


@dataclass
class Listing:
    """One list page's request (creators, links, campaigns, tokens, costs, the commission
    statement): its filters, page and whether the CSV was asked for. ``answer`` gives either
    the page or the CSV of exactly the rows it shows (every page, the same filters)."""

    request: Request
    filters: dict[str, str]
    number: int
    csv: bool

    @property
    def limit(self) -> int:
        return CSV_MAX if self.csv else PAGE_SIZE

    @property
    def offset(self) -> int:
        return 0 if self.csv else (self.number - 1) * PAGE_SIZE

    def cut(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows paged here (a list filtered in Python): the page's rows, or all for a CSV."""
        return rows[self.offset : self.offset + self.limit]

    def answer(
        self, shown: Table, filename: str, template: str, total: int, **context: Any
    ) -> Response:
        if self.csv:
            return csv_response(shown, filename)
        return render(
            self.request,
            template,
            items=shown.rows,
            page=Page(self.number, PAGE_SIZE, total),
            filters=self.filters,
            query_with=lambda **kw: query_with(self.request, **kw),
            csv_url=query_with(self.request, format="csv", page=""),
            **context,
        )


def listing(request: Request, *names: str, csv: bool = True) -> Listing:
    """The named filters (trimmed, at most 100 characters), page number and format."""
    qp = request.query_params
    return Listing(
        request,
        {k: qp.get(k, "").strip()[:100] for k in names},
        page_number(request),
        csv and qp.get("format") == "csv",
    )
