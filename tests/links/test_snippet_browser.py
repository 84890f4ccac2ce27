"""The storefront snippet in headless Chromium (issue 17), against a stand-in Shopify
storefront served by this test: the shopper lands with ``?cl_cid=...``, browses to another
page (no click id in its URL), adds to cart; the cart's attributes, posted by the snippet to
``/cart/update.js`` as ``attributes[cl_cid]``, carry the click id, as Shopify then copies
them into the order's ``note_attributes``. The script comes from a real tracker server with
the integrity hash the panel shows; a wrong hash keeps it from running at all.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.admin.test_admin_browser import ARGS, CHROMIUM
from tests.conftest import Server, free_port, server_env
from tracker.links import snippet

CLICK_ID = "0f2MQF---geHTuj1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


class Storefront(ThreadingHTTPServer):
    """Shopify's cart endpoints as a theme sees them: one cart per ``cart`` cookie."""

    def __init__(self, script_tag: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script_tag = script_tag
        self.carts: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, list[str]]] = []  # bodies posted to /cart/update.js

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
{tag}</head><body><h1>{title}</h1>{body}</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: Storefront

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _cart(self) -> tuple[str, dict[str, Any], bool]:
        jar = SimpleCookie(self.headers.get("cookie", ""))
        token = jar["cart"].value if "cart" in jar else ""
        new = token not in self.server.carts
        if new:
            token = f"c{len(self.server.carts) + 1}"
            self.server.carts[token] = {"token": token, "attributes": {}, "items": []}
        return token, self.server.carts[token], new

    def _send(self, status: int, body: str, kind: str, cookie: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        if cookie:
            self.send_header("set-cookie", f"cart={cookie}; Path=/; SameSite=Lax")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/cart.js":
            _, cart, _ = self._cart()
            self._send(200, json.dumps(cart), "application/json")
            return
        pages = {
            "/products/serum": (
                "Serum",
                '<a id="browse" href="/collections/all">All products</a>',
            ),
            "/collections/all": (
                "All products",
                '<button id="add" type="button">Add to cart</button><p id="added"></p>'
                "<script>document.getElementById('add').onclick = function () {"
                "fetch('/cart/add.js', {method: 'POST', headers: {'Content-Type': "
                "'application/json'}, body: JSON.stringify({id: 42, quantity: 1})})"
                ".then(function () { document.getElementById('added').textContent = 'ok'; });"
                "};</script>",
            ),
        }
        if path not in pages:
            self._send(404, "not found", "text/plain")
            return
        title, body = pages[path]
        self._send(
            200, PAGE.format(title=title, tag=self.server.script_tag, body=body), "text/html"
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode()
        token, cart, new = self._cart()
        if self.path == "/cart/update.js":
            form = parse_qs(raw)
            self.server.updates.append(form)
            for key, values in form.items():
                if key.startswith("attributes[") and key.endswith("]"):
                    cart["attributes"][key[11:-1]] = values[-1]
        elif self.path == "/cart/add.js":
            cart["items"].append(json.loads(raw))
        else:
            self._send(404, "not found", "text/plain")
            return
        self._send(200, json.dumps(cart), "application/json", token if new else "")


@pytest.fixture
def tracker(tmp_path: Path, database_url: str) -> Iterator[Server]:
    srv = Server(server_env(tmp_path, database_url), free_port(), tmp_path / "s.log").start()
    try:
        yield srv
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()


def _store(tag: str) -> Iterator[Storefront]:
    shop = Storefront(tag)
    thread = threading.Thread(target=shop.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        shop.shutdown()
        shop.server_close()


def _wait(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_click_id_reaches_the_cart_attributes(tracker: Server) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    src = tracker.url + snippet.PATH
    tag = (
        f'<script src="{src}" integrity="{snippet.integrity()}" crossorigin="anonymous" '
        'data-param="cl_cid" data-days="7" defer></script>'
    )
    bad_tag = tag.replace(snippet.integrity(), "sha384-" + "A" * 64)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for shop in _store(tag):
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{shop.url}/products/serum?utm_source=tiktok&cl_cid={CLICK_ID}")
                _wait(lambda: shop.updates)  # noqa: B023
                page.click("#browse")  # a page without the click id in its URL
                page.wait_for_url("**/collections/all")
                page.click("#add")
                page.wait_for_selector("#added:has-text('ok')")
                assert page.evaluate("window.creatorlink.clickId") == CLICK_ID  # from the cookie
                cart = json.loads(page.goto(f"{shop.url}/cart.js").text())  # type: ignore[union-attr]
                assert cart["attributes"] == {"cl_cid": CLICK_ID}
                assert cart["items"] == [{"id": 42, "quantity": 1}]
                assert shop.updates[0] == {"attributes[cl_cid]": [CLICK_ID]}
                (cookie,) = [c for c in context.cookies() if c["name"] == "cl_cid"]
                assert cookie["value"] == CLICK_ID
                assert abs(cookie["expires"] - (time.time() + 7 * 86400)) < 120
                context.close()
            for shop in _store(bad_tag):  # a tampered script (or hash) never runs
                context = browser.new_context()
                page = context.new_page()
                messages: list[str] = []
                page.on("console", lambda m: messages.append(m.text))  # noqa: B023
                page.goto(f"{shop.url}/products/serum?cl_cid={CLICK_ID}")
                page.wait_for_load_state("load")
                time.sleep(0.3)
                assert shop.updates == [] and context.cookies() == []
                assert any("integrity" in m for m in messages), messages
                context.close()
        finally:
            browser.close()
