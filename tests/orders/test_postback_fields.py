"""Every typed field of every postback source, given the wrong JSON type, is a 422 or
ignored: never a 500 that a shop would retry for days (issue 21: ``"landing_site": 123``).

Two layers:
- pure: each source's parser is run with a recording object to learn which fields it reads
  (including ones the fixtures lack), then every such field and every field of the real
  fixtures is replaced by each hostile value; only our own 4xx errors may come out;
- over HTTP, on both engines: fixed regression cases, validly signed, each with the exact
  status it must get and what must be stored.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.conftest import Running
from tests.postback_helpers import (
    SHOPIFY_BODY,
    SHOPIFY_SECRET,
    WOO_BODY,
    dumps,
    generic_headers,
    shopify_headers,
    woo_headers,
)
from tracker.core.errors import Rejected
from tracker.orders.sources import Event, generic, shopify, woocommerce

Path = tuple[str | int, ...]
HOSTILE: list[Any] = [
    123,
    -1,
    1.5,
    1e300,
    True,
    False,
    None,
    [],
    [1, "a"],
    {},
    {"a": 1},
    "",
    "x",
    "1e999999",
    "-5",
    "9" * 40,
    "NaN",
    "Infinity",
    "2026-13-45T99:99:99Z",
    "a\u0000b",
]
SHOPIFY = json.loads(SHOPIFY_BODY)
WOO = json.loads(WOO_BODY)
GENERIC = {
    "order_id": "G-1",
    "order_number": "1001",
    "created_at": "2026-11-01T10:00:00Z",
    "updated_at": "2026-11-01T10:00:00Z",
    "currency": "EUR",
    "total_minor": 1000,
    "subtotal_minor": 1000,
    "discount_minor": 0,
    "status": "paid",
    "discount_codes": ["TENOFF"],
    "click_id": "AAAAAAAAAAAAAAAA",
    "ip": "203.0.113.9",
    "user_agent": "Mozilla/5.0",
    "accept_language": "en",
    "landing_url": "/?cl_cid=AAAAAAAAAAAAAAAA",
    "customer_email": "a@example.com",
    "new_customer": True,
    "refunds": [{"id": "r1", "amount_minor": 100, "created_at": "2026-11-02T10:00:00Z"}],
}
SHOPIFY_REFUND = {**SHOPIFY["refunds"][0], "order_id": SHOPIFY["id"]}
PRIVACY = {
    "shop_id": 954889,
    "shop_domain": "demo.myshopify.com",
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "orders_to_redact": [299938, 280263],
    "orders_requested": [299938],
}


class Spy(dict):  # type: ignore[type-arg]
    """A JSON object that records the path of every key a parser reads (present or not)."""

    def __init__(self, data: dict[str, Any], path: Path, reads: set[Path]) -> None:
        super().__init__(data)
        self.path, self.reads = path, reads

    def _wrap(self, key: str, value: Any) -> Any:
        where = (*self.path, key)
        if isinstance(value, dict):
            return Spy(value, where, self.reads)
        if isinstance(value, list):
            return [
                Spy(v, (*where, i), self.reads) if isinstance(v, dict) else v
                for i, v in enumerate(value)
            ]
        return value

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.reads.add((*self.path, key))
        return self._wrap(key, super().get(key, default))

    def __getitem__(self, key: str) -> Any:
        self.reads.add((*self.path, key))
        return self._wrap(key, super().__getitem__(key))


@dataclass(frozen=True)
class Source:
    name: str
    base: dict[str, Any]
    parse: Callable[[bytes], Event]
    parse_data: Callable[[Any], Event]


def _shopify(topic: str) -> tuple[Callable[[bytes], Event], Callable[[Any], Event]]:
    headers = {"X-Shopify-Topic": topic}
    return (
        lambda body: shopify.parse(body, headers, "cl_cid"),
        lambda data: _with_data(shopify, data, lambda: shopify.parse(b"{}", headers, "cl_cid")),
    )


def _woo(topic: str) -> tuple[Callable[[bytes], Event], Callable[[Any], Event]]:
    headers = {"X-WC-Webhook-Topic": topic}
    return (
        lambda body: woocommerce.parse(body, headers, "cl_cid"),
        lambda data: _with_data(
            woocommerce, data, lambda: woocommerce.parse(b"{}", headers, "cl_cid")
        ),
    )


def _generic() -> tuple[Callable[[bytes], Event], Callable[[Any], Event]]:
    headers = {"webhook-id": "msg"}
    return (
        lambda body: generic.parse(body, headers, "cl_cid"),
        lambda data: _with_data(generic, data, lambda: generic.parse(b"{}", headers, "cl_cid")),
    )


def _with_data(module: Any, data: Any, call: Callable[[], Event]) -> Event:
    """Run a source's parse() on an already-decoded object (the Spy), by swapping the one
    JSON decoder it calls for the duration of the call."""
    original = module.load_json
    module.load_json = lambda body: data
    try:
        return call()
    finally:
        module.load_json = original


SOURCES = [
    Source("shopify orders/create", SHOPIFY, *_shopify("orders/create")),
    Source("shopify orders/cancelled", SHOPIFY, *_shopify("orders/cancelled")),
    Source("shopify refunds/create", SHOPIFY_REFUND, *_shopify("refunds/create")),
    Source("shopify customers/redact", PRIVACY, *_shopify("customers/redact")),
    Source("shopify customers/data_request", PRIVACY, *_shopify("customers/data_request")),
    Source("woocommerce order.updated", WOO, *_woo("order.updated")),
    Source("woocommerce order.deleted", WOO, *_woo("order.deleted")),
    Source("generic", GENERIC, *_generic()),
    Source("generic wrapped", {"type": "order.updated", "data": GENERIC}, *_generic()),
]


def all_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    if path:
        yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from all_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from all_paths(v, (*path, i))


def replaced(data: Any, path: Path, value: Any) -> Any:
    """A copy of ``data`` with the field at ``path`` set to ``value`` (created if absent,
    when its parent exists)."""
    out = orjson.loads(dumps(data))
    cur = out
    for key in path[:-1]:
        if isinstance(cur, dict) and isinstance(cur.get(key), dict | list):  # type: ignore[arg-type]
            cur = cur[key]  # type: ignore[index]
        elif isinstance(cur, list) and isinstance(key, int) and key < len(cur):
            cur = cur[key]
        else:
            return None
    if isinstance(cur, dict) or (
        isinstance(cur, list) and isinstance(path[-1], int) and path[-1] < len(cur)
    ):
        cur[path[-1]] = value
    else:
        return None
    return out


def fields_read(source: Source) -> set[Path]:
    reads: set[Path] = set()
    source.parse_data(Spy(copy.deepcopy(source.base), (), reads))
    return reads


def test_the_spy_sees_fields_the_fixture_lacks() -> None:
    """The recording really records: Shopify's parser reads fields order #1001 does not have
    (so the hostile values below also reach fields a fixture would never exercise), and
    nested ones down to a refund transaction's amount."""
    reads = fields_read(SOURCES[0])
    assert {("landing_site",), ("attributes",), ("client_details", "user_agent")} <= reads
    assert ("refunds", 0, "transactions", 0, "amount") in reads
    assert ("attributes",) not in set(all_paths(SHOPIFY))
    assert ("line_items", 0, "sku") not in reads


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_field_with_every_wrong_type_is_a_4xx_or_ignored(source: Source) -> None:
    # every field the parser reads, and every object or array on the way to one (a field it
    # never reads cannot break it, whatever its type)
    paths = sorted({p[:i] for p in fields_read(source) for i in range(1, len(p) + 1)}, key=repr)
    crashes: dict[tuple[Path, str], list[Any]] = {}
    tried = 0
    for path in paths:
        for value in HOSTILE:
            data = replaced(source.base, path, value)
            if data is None:
                continue
            tried += 1
            try:
                source.parse(dumps(data))
            except Rejected:
                pass
            except Exception as exc:  # anything else would be a 500
                crashes.setdefault((path, f"{type(exc).__name__}: {exc}"), []).append(value)
    assert tried >= len(HOSTILE) * 3  # at least three fields, each with every value
    assert crashes == {}, crashes


# -- over HTTP, both engines: fixed regression cases ---------------------------------------
@dataclass
class Shops:
    live: Running
    auth: dict[str, str]
    woo_secret: str
    gen_secret: str
    pixel_token: str

    async def send(self, source: str, data: Any, n: int) -> Any:
        body = dumps(data)
        if source == "shopify":
            url, headers = "/postbacks/shopify/demo", shopify_headers(body)
        elif source == "woocommerce":
            url, headers = "/postbacks/woocommerce/woo", woo_headers(body, self.woo_secret)
        else:
            url = "/postbacks/generic/gen"
            headers = generic_headers(body, self.gen_secret, f"msg-{n}")
        return await self.live.client.post(url, content=body, headers=headers)

    async def orders(self) -> list[dict[str, Any]]:
        r = await self.live.client.get("/api/v1/orders?limit=100", headers=self.auth)
        items: list[dict[str, Any]] = r.json()["items"]
        return items


@pytest.fixture
async def shops(live: Running, auth: dict[str, str]) -> Shops:
    c = live.client
    r = await c.post("/api/v1/creators", headers=auth, json={"handle": "maya"})
    assert r.status_code == 201
    r = await c.post("/api/v1/codes", headers=auth, json={"code": "TENOFF", "creator_id": "maya"})
    assert r.status_code == 201
    r = await c.post(
        "/api/v1/shops",
        headers=auth,
        json={"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET, "pixel": True},
    )
    pixel = r.json()["pixel_token"]
    woo = await c.post(
        "/api/v1/shops", headers=auth, json={"slug": "woo", "platform": "woocommerce"}
    )
    gen = await c.post("/api/v1/shops", headers=auth, json={"slug": "gen", "platform": "generic"})
    return Shops(live, auth, woo.json()["secret"], gen.json()["secret"], pixel)


def _shopify(**changes: Any) -> dict[str, Any]:
    return {**SHOPIFY, **changes}


def _woo(**changes: Any) -> dict[str, Any]:
    return {**WOO, **changes}


def _gen(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {**GENERIC, "created_at": now, "updated_at": now, **changes}


# (source, payload, expected status). 200: accepted, the wrong-typed text field ignored (or
# kept as the number's digits); 422: refused with a reason naming the field, nothing stored.
CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("landing_site: 123", "shopify", _shopify(landing_site=123), 200),
    ("landing_site: 1.5", "shopify", _shopify(landing_site=1.5), 200),
    ("landing_site: true", "shopify", _shopify(landing_site=True), 200),
    ("landing_site: list", "shopify", _shopify(landing_site=["/?cl_cid=x"]), 200),
    ("landing_site: object", "shopify", _shopify(landing_site={"cl_cid": "x"}), 200),
    ("landing_site: null", "shopify", _shopify(landing_site=None), 200),
    ("landing_site: NUL", "shopify", _shopify(landing_site="/?a=\u0000"), 200),
    ("referring_site: 123", "shopify", _shopify(referring_site=123), 200),
    ("landing_site_ref: 123", "shopify", _shopify(landing_site_ref=123), 200),
    ("name: list", "shopify", _shopify(name=["#1"]), 200),
    ("financial_status: 1", "shopify", _shopify(financial_status=1), 200),
    ("browser_ip: object", "shopify", _shopify(browser_ip={"v4": "1.2.3.4"}), 200),
    ("email: 5", "shopify", _shopify(email=5, customer={"email": [], "orders_count": "1"}), 200),
    ("client_details: list", "shopify", _shopify(client_details=[1]), 200),
    (
        "note_attributes value: 123",
        "shopify",
        _shopify(note_attributes=[{"name": "cl_cid", "value": 123}, "x", None]),
        200,
    ),
    ("discount_codes: object", "shopify", _shopify(discount_codes={"code": "TENOFF"}), 200),
    ("discount code: 123", "shopify", _shopify(discount_codes=[{"code": 123}]), 200),
    ("refunds: object", "shopify", _shopify(refunds={"id": 1}), 200),
    ("id: object", "shopify", _shopify(id={"n": 1}), 422),
    ("id: true", "shopify", _shopify(id=True), 422),
    ("created_at: 123", "shopify", _shopify(created_at=123), 422),
    ("total_price: list", "shopify", _shopify(total_price=[], total_price_set=None), 422),
    (
        "total_price: 1e999999",
        "shopify",
        _shopify(total_price_set={"shop_money": {"amount": "1e999999", "currency_code": "USD"}}),
        422,
    ),
    ("currency: 840", "shopify", _shopify(currency=840, total_price_set=None), 422),
    ("status: 1", "woocommerce", _woo(status=1), 200),
    ("number: list", "woocommerce", _woo(number=[727]), 200),
    ("customer_ip_address: object", "woocommerce", _woo(customer_ip_address={}), 200),
    ("billing: list", "woocommerce", _woo(billing=["a@b.c"]), 200),
    ("meta_data value: 123", "woocommerce", _woo(meta_data=[{"key": "cl_cid", "value": 1}]), 200),
    ("coupon code: list", "woocommerce", _woo(coupon_lines=[{"code": ["TENOFF"]}]), 200),
    ("id: list", "woocommerce", _woo(id=[727]), 422),
    ("total: object", "woocommerce", _woo(total={"amount": "1"}), 422),
    ("total: 1e300", "woocommerce", _woo(total=1e300), 422),
    ("date_created_gmt: 1", "woocommerce", _woo(date_created_gmt=1), 422),
    ("landing_url: 123", "generic", _gen(landing_url=123), 422),
    ("click_id: list", "generic", _gen(click_id=["x"]), 422),
    ("order_id: object", "generic", _gen(order_id={"a": 1}), 422),
    ("ip: 5", "generic", _gen(ip=5), 422),
    ("total_minor: string", "generic", _gen(total_minor="12.00"), 422),
    ("landing_url: null", "generic", _gen(landing_url=None), 200),
    ("order_id: 129 characters", "generic", _gen(order_id="o" * 129), 422),
]


def _unique(source: str, data: dict[str, Any], n: int) -> dict[str, Any]:
    """The case's payload as its own order (so one app can take every case in turn)."""
    key = "order_id" if source == "generic" else "id"
    if isinstance(data.get(key), str | int) and not isinstance(data.get(key), bool):
        return {**data, key: f"{data[key]}-{n}" if source == "generic" else 10**6 + n}
    return data


@pytest.mark.anyio
async def test_wrong_types_in_signed_postbacks(shops: Shops) -> None:
    """Each case validly signed, one after another against one app: the exact status, an
    order stored for each 200 and nothing for each 422 (whose reason names the field)."""
    wrong = []
    for n, (name, source, data, status) in enumerate(CASES):
        before = len(await shops.orders())
        r = await shops.send(source, _unique(source, data, n), n)
        stored = len(await shops.orders()) - before
        field = name.split(":")[0].split()[0]
        if (r.status_code, stored) != (status, 1 if status == 200 else 0) or (
            status == 422 and field not in r.json()["detail"]
        ):
            wrong.append((name, r.status_code, stored, r.text[:200]))
    assert wrong == []


@pytest.mark.anyio
async def test_landing_site_number_regression(shops: Shops) -> None:
    """The case from issue 21 in full: accepted once, the code still attributes the order,
    a replay changes nothing, the number is not mistaken for a click id."""
    data = _shopify(landing_site=123)
    for _ in range(2):
        r = await shops.send("shopify", data, 1)
        assert r.status_code == 200, r.text
    orders = await shops.orders()
    assert len(orders) == 1 and orders[0]["creator_id"] is not None
    detail = (
        await shops.live.client.get(f"/api/v1/orders/{orders[0]['id']}", headers=shops.auth)
    ).json()
    assert detail["click_ids"] == [] and detail["codes"] == ["TENOFF"]


@pytest.mark.anyio
async def test_an_id_too_long_is_refused_not_cut(shops: Shops) -> None:
    """Two orders whose 129-character ids share their first 128 characters were cut to one
    id and merged into one order; now every source refuses an id past 128 (a 422 naming
    it), and an id of exactly 128 is kept whole."""
    long_a, long_b = "7" * 128 + "1", "7" * 128 + "2"
    for source, key in (("shopify", "id"), ("woocommerce", "id")):
        for n, oid in enumerate((long_a, long_b)):
            data = (_shopify if source == "shopify" else _woo)(**{key: oid})
            r = await shops.send(source, data, 900 + n)
            assert r.status_code == 422 and key in r.json()["detail"], r.text
    r = await shops.live.client.get(
        f"/postbacks/pixel/demo?order_id={long_a}&amount=10&token={shops.pixel_token}"
    )
    assert r.status_code == 422 and "order_id" in r.text
    assert await shops.orders() == []
    r = await shops.send("shopify", _shopify(id="7" * 128), 910)
    assert r.status_code == 200, r.text
    assert [o["external_id"] for o in await shops.orders()] == ["7" * 128]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "query",
    ["amount=1e999999", "amount=9e40", "amount=NaN", "amount=-1", "currency=12", "status=x"],
    ids=["huge", "overflow", "nan", "negative", "currency", "status"],
)
async def test_pixel_hostile_values_are_422(shops: Shops, query: str) -> None:
    params = dict(p.split("=") for p in ("order_id=P1&amount=10&" + query).split("&"))
    url = "/postbacks/pixel/demo?" + "&".join(f"{k}={v}" for k, v in params.items())
    r = await shops.live.client.get(f"{url}&token={shops.pixel_token}")
    assert r.status_code == 422, r.text
    assert await shops.orders() == []


@pytest.mark.anyio
async def test_a_pixel_field_given_twice_is_422_not_its_last_value(shops: Shops) -> None:
    """``amount=1&amount=1000000`` was read as its last value (a page template filling a
    field twice, or a tampered URL): ambiguous, so refused; ``code`` may repeat (several
    discount codes on one order)."""
    base = f"/postbacks/pixel/demo?token={shops.pixel_token}"
    for query in ("order_id=P1&amount=1&amount=1000000", "order_id=P1&order_id=P2&amount=5"):
        r = await shops.live.client.get(f"{base}&{query}")
        assert r.status_code == 422 and "more than once" in r.text, (query, r.text)
    assert await shops.orders() == []
    r = await shops.live.client.get(f"{base}&order_id=P3&amount=5&code=A1&code=B2")
    assert r.status_code == 200, r.text


@pytest.mark.anyio
async def test_an_order_time_far_in_the_future_is_refused(shops: Shops) -> None:
    """A signed order updated "9999-12-31" (a shop's clock or template gone wrong) was
    stored, and every later update of it, a cancellation included, was "stale" and
    ignored: the order counted its revenue for ever (hostile pass, third). An order time
    or update time more than a day ahead of the server's clock is a 422 naming it, and
    nothing is stored; up to a day ahead (a time zone sent as UTC) is accepted."""
    ahead = datetime.now(UTC) + timedelta(days=2)
    soon = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    far = "9999-12-31T00:00:00Z"
    cases = [
        ("shopify", _shopify(updated_at=far), "updated"),
        ("shopify", _shopify(created_at=ahead.isoformat(), updated_at=far), "placed"),
        ("woocommerce", _woo(date_modified_gmt="9999-12-31T00:00:00"), "updated"),
        ("woocommerce", _woo(date_created_gmt=ahead.strftime("%Y-%m-%dT%H:%M:%S")), "placed"),
        ("generic", _gen(updated_at=far), "updated"),
        ("generic", _gen(created_at=ahead.isoformat(), updated_at=None), "placed"),
    ]
    for n, (source, data, what) in enumerate(cases):
        r = await shops.send(source, _unique(source, data, 800 + n), 800 + n)
        assert r.status_code == 422, (source, data.get("updated_at"), r.text)
        assert what in r.json()["detail"] and "future" in r.json()["detail"], r.text
    assert await shops.orders() == []
    now = datetime.now(UTC).isoformat()
    r = await shops.send("generic", _gen(order_id="soon", created_at=now, updated_at=now), 850)
    assert r.status_code == 200, r.text
    later = _gen(order_id="soon", created_at=now, updated_at=soon, status="cancelled")
    r = await shops.send("generic", later, 851)
    assert r.status_code == 200 and r.json()["status"] == "updated", r.text
    (order,) = await shops.orders()
    assert order["status"] == "cancelled"
