"""The admin panel over HTTP (httpx against the app, real SQLite and PostgreSQL): login,
sessions, CSRF, throttling, roles, security headers, and the pages' writes."""

from __future__ import annotations

import csv
import functools
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from admin import passwords
from admin.passwords import hash_password
from admin.sessions import COOKIE, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_IP
from tests.conftest import Running, make_settings, running

ADMIN, VIEWER = "boss@brand.example", "viewer@brand.example"
PASSWORD = "correct horse battery staple"
CLIENT_IP = "203.0.113.7"  # the address the `live` client connects from


@functools.cache
def _hash() -> str:
    return hash_password(PASSWORD)  # scrypt is slow on purpose: hash once per run


@functools.cache
def _cheap_hash(n: int = 2**10) -> str:
    """The same scheme at a tiny cost: for tests that count login attempts (throttling),
    not the work per attempt (the real parameters are what every other test uses)."""
    salt = b"s" * 16
    key = passwords._derive(PASSWORD, salt, n, passwords.R, passwords.P)
    return f"scrypt${n}${passwords.R}${passwords.P}${passwords._b64(salt)}${passwords._b64(key)}"


@pytest.fixture
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown e-mails are checked against a dummy hash of the same (tiny) cost."""
    monkeypatch.setattr(passwords, "_DUMMY", _cheap_hash())


async def add_user(live: Running, email: str, role: str, *, cheap: bool = False) -> None:
    await live.store.create_admin_user(email, role, _cheap_hash() if cheap else _hash())


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "email": email, "password": password, **extra},
    )


async def logged_in(live: Running, role: str = "admin") -> str:
    """Log the live client in; return a CSRF token of the new session."""
    email = ADMIN if role == "admin" else VIEWER
    await add_user(live, email, role)
    r = await login(live.client, email)
    assert r.status_code == 303, r.text
    return csrf_of((await live.client.get("/admin/")).text)


async def creator_count(live: Running) -> int:
    return (await live.store.panel_totals())["creators"]


# -- login, sessions, cookies --------------------------------------------------------------
@pytest.mark.anyio
async def test_pages_need_login(live: Running) -> None:
    for path in ("/admin/", "/admin/creators", "/admin/links", "/admin/tokens", "/admin/import"):
        r = await live.client.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/admin/login?next=")


@pytest.mark.anyio
async def test_login_logout_and_session_revocation(live: Running) -> None:
    await add_user(live, ADMIN, "admin")
    r = await login(live.client, ADMIN, next="/admin/links")
    assert r.status_code == 303 and r.headers["location"] == "/admin/links"
    assert (await live.client.get("/admin/links")).status_code == 200
    stolen = live.client.cookies.get(COOKIE)
    token = csrf_of((await live.client.get("/admin/")).text)
    r = await live.client.post("/admin/logout", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    # The old cookie is dead on the server, not merely forgotten by the browser.
    other = httpx.AsyncClient(
        transport=live.client._transport,
        base_url="http://testserver",
        cookies={COOKIE: stolen or ""},
    )
    async with other:
        assert (await other.get("/admin/")).status_code == 303


@pytest.mark.anyio
async def test_wrong_password_and_unknown_user_look_the_same(live: Running) -> None:
    await add_user(live, ADMIN, "admin")
    a = await login(live.client, ADMIN, "not the password")
    b = await login(live.client, "nobody@brand.example", "not the password")
    assert a.status_code == b.status_code == 401
    assert "Wrong e-mail or password" in a.text and "Wrong e-mail or password" in b.text
    assert COOKIE in live.client.cookies  # still the anonymous one
    assert (await live.client.get("/admin/")).status_code == 303


@pytest.mark.anyio
async def test_login_never_redirects_off_site(live: Running) -> None:
    await add_user(live, ADMIN, "admin")
    r = await login(live.client, ADMIN, next="https://evil.example/admin/")
    assert r.headers["location"] == "/admin/"
    await live.client.post(
        "/admin/logout", data={"csrf": csrf_of((await live.client.get("/admin/")).text)}
    )
    r = await login(live.client, ADMIN, next="//evil.example/x")
    assert r.headers["location"] == "/admin/"


@pytest.mark.anyio
async def test_tampered_cookie_is_ignored(live: Running) -> None:
    await logged_in(live)
    value = live.client.cookies.get(COOKIE) or ""
    sid, sig = value.split(".")
    live.client.cookies.set(
        COOKIE, sid[:-1] + ("A" if sid[-1] != "A" else "B") + "." + sig, path="/admin"
    )
    assert (await live.client.get("/admin/")).status_code == 303


@pytest.mark.anyio
async def test_session_cookie_flags_over_http(live: Running) -> None:
    r = await live.client.get("/admin/login")
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain-HTTP development server: a Secure cookie is lost


@pytest.mark.anyio
async def test_session_cookie_is_secure_behind_https(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'h.db'}", TRACKER_BASE_URL="https://links.brand.example"
    )
    async with running(settings) as live:
        await add_user(live, ADMIN, "admin")
        r = await live.client.get("/admin/login")
        assert "; secure" in r.headers["set-cookie"].lower()
        assert "strict-transport-security" in r.headers
        # httpx (like a browser) keeps a Secure cookie off plain HTTP; carry it by hand.
        anon = r.cookies[COOKIE]
        r = await live.client.post(
            "/admin/login",
            headers={"cookie": f"{COOKIE}={anon}"},
            data={"csrf": csrf_of(r.text), "email": ADMIN, "password": PASSWORD},
        )
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "max-age=43200" in cookie


@pytest.mark.anyio
async def test_security_headers(live: Running) -> None:
    for path in ("/admin/login", "/admin/", "/admin/static/admin.css"):
        r = await live.client.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
    assert (await live.client.get("/admin/login")).headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_pages_have_no_inline_script(live: Running) -> None:
    await logged_in(live)
    for path in (
        "/admin/login",
        "/admin/",
        "/admin/creators",
        "/admin/links",
        "/admin/tokens",
        "/admin/import",
        "/admin/campaigns",
        "/admin/reports",
        "/admin/settings",
    ):
        html = (await live.client.get(path)).text
        assert "<script>" not in html and " on" + "click=" not in html
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), path
        assert 'style="' not in html, path


# -- CSRF ----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_post_without_csrf_token_is_refused(live: Running) -> None:
    token = await logged_in(live)
    form = {"handle": "csrfvictim", "platform": "instagram"}
    r = await live.client.post("/admin/creators", data=form)
    assert r.status_code == 403 and "CSRF" in r.text
    r = await live.client.post("/admin/creators", data={**form, "csrf": token[:-2] + "xx"})
    assert r.status_code == 403
    r = await live.client.post("/admin/creators", data=form, headers={"x-csrf-token": "nope"})
    assert r.status_code == 403
    assert await creator_count(live) == 0
    for path in (
        "/admin/links",
        "/admin/tokens",
        "/admin/campaigns",
        "/admin/import",
        "/admin/logout",
    ):
        assert (await live.client.post(path, data={"name": "x"})).status_code == 403, path
    assert (await live.client.get("/admin/")).status_code == 200  # still logged in
    r = await live.client.post("/admin/creators", data={**form, "csrf": token})
    assert r.status_code == 303
    assert await creator_count(live) == 1


@pytest.mark.anyio
async def test_csrf_token_of_another_session_is_refused(live: Running) -> None:
    token = await logged_in(live)
    fresh = httpx.AsyncClient(transport=live.client._transport, base_url="http://testserver")
    async with fresh:
        r = await login(fresh, ADMIN)
        assert r.status_code == 303
        r = await fresh.post("/admin/creators", data={"handle": "x1", "csrf": token})
        assert r.status_code == 403
    assert await creator_count(live) == 0


@pytest.mark.anyio
async def test_login_form_needs_csrf(live: Running) -> None:
    await add_user(live, ADMIN, "admin")
    r = await live.client.post("/admin/login", data={"email": ADMIN, "password": PASSWORD})
    assert r.status_code == 403
    assert (await live.client.get("/admin/")).status_code == 303


# -- throttling ----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_login_throttled_per_account(live: Running, cheap_scrypt: None) -> None:
    await add_user(live, ADMIN, "admin", cheap=True)
    await add_user(live, VIEWER, "viewer", cheap=True)
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await login(live.client, ADMIN, "wrong password!")).status_code == 401
    r = await login(live.client, ADMIN)  # even the right password, while throttled
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60 + 1
    assert (await live.client.get("/admin/")).status_code == 303
    # Another account from the same address is not locked by this one's failures.
    assert (await login(live.client, VIEWER)).status_code == 303


@pytest.mark.anyio
async def test_login_throttled_per_address(live: Running, cheap_scrypt: None) -> None:
    await add_user(live, ADMIN, "admin", cheap=True)
    for i in range(MAX_FAILURES_PER_IP):  # guesses at many accounts from one address
        assert (await login(live.client, f"guess{i}@x.example", "nope nope")).status_code == 401
    r = await login(live.client, ADMIN)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # Another address is not affected.
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.app, client=("198.51.100.1", 1)),
        base_url="http://testserver",
    )
    async with other:
        assert (await login(other, ADMIN)).status_code == 303


# -- roles ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_viewer_can_read_but_not_change_anything(live: Running) -> None:
    await live.store.create_creator({"handle": "existing", "platform": "instagram"})
    _, _ = await live.store.create_token("kept")
    tokens = await live.store.list_tokens()
    token = await logged_in(live, "viewer")
    for path in (
        "/admin/",
        "/admin/creators",
        "/admin/creators/existing",
        "/admin/campaigns",
        "/admin/links",
        "/admin/tokens",
        "/admin/import",
        "/admin/reports",
        "/admin/settings",
    ):
        r = await live.client.get(path)
        assert r.status_code == 200, path
        assert r.text.count('method="post"') == 1, path  # only the logout form
    writes = [
        ("/admin/creators", {"handle": "viewermade"}),
        ("/admin/campaigns", {"name": "viewer campaign"}),
        ("/admin/links", {"destination": "https://shop.example.com/"}),
        ("/admin/tokens", {"name": "viewer token"}),
        (f"/admin/tokens/{tokens[0]['id']}/revoke", {}),
        ("/admin/import", {"text": "handle\nviewerimport\n", "action": "import"}),
        ("/admin/creators/existing", {"handle": "renamed"}),
    ]
    for path, form in writes:
        r = await live.client.post(path, data={**form, "csrf": token})
        assert r.status_code == 403, path
        assert "read-only" in r.text
    assert await creator_count(live) == 1
    assert (await live.store.get_creator("existing"))["handle"] == "existing"
    assert (await live.store.panel_totals())["campaigns"] == 0
    assert (await live.store.panel_totals())["links"] == 0
    assert [t["revoked_at"] for t in await live.store.list_tokens()] == [None]
    # Logging out is allowed.
    assert (await live.client.post("/admin/logout", data={"csrf": token})).status_code == 303


# -- pages that write ----------------------------------------------------------------------
@pytest.mark.anyio
async def test_create_link_uses_catalogue_rules_and_serves_at_once(live: Running) -> None:
    token = await logged_in(live)
    await live.store.create_creator({"handle": "mia", "platform": "tiktok"})
    await live.store.create_campaign({"name": "Summer Glow"})
    # Warm a negative cache entry for the slug first: creation must invalidate it.
    assert (await live.client.get("/mia-summer")).status_code == 404
    campaign = (await live.store.list_campaigns())[0]
    r = await live.client.post(
        "/admin/links",
        data={
            "csrf": token,
            "destination": "https://shop.example.com/p",
            "creator_id": "@mia",
            "campaign_id": campaign["id"],
            "slug": "mia-summer",
        },
    )
    assert r.status_code == 303, r.text
    link = await live.store.get_link("mia-summer")
    assert (link["utm_source"], link["utm_medium"], link["utm_campaign"], link["utm_content"]) == (
        "tiktok",
        "influencer",
        "summer_glow",
        "mia",
    )
    r = await live.client.get("/mia-summer")
    assert r.status_code == 302 and "utm_campaign=summer_glow" in r.headers["location"]


@pytest.mark.anyio
async def test_bad_link_is_refused_with_reason(live: Running) -> None:
    token = await logged_in(live)
    r = await live.client.post(
        "/admin/links", data={"csrf": token, "destination": "javascript:alert(1)"}
    )
    assert r.status_code == 422 and "Not saved" in r.text
    r = await live.client.post(
        "/admin/links",
        data={"csrf": token, "destination": "https://shop.example.com/", "slug": "admin"},
    )
    assert r.status_code == 422 and "reserved" in r.text
    assert (await live.store.panel_totals())["links"] == 0


@pytest.mark.anyio
async def test_creator_form_errors_and_duplicates(live: Running) -> None:
    token = await logged_in(live)
    r = await live.client.post("/admin/creators", data={"csrf": token, "handle": "bad handle!"})
    assert r.status_code == 422 and "handle" in r.text
    r = await live.client.post("/admin/creators", data={"csrf": token, "handle": "ok"})
    assert r.status_code == 303
    r = await live.client.post("/admin/creators", data={"csrf": token, "handle": "OK"})
    assert r.status_code == 409 and "already exists" in r.text
    assert await creator_count(live) == 1


@pytest.mark.anyio
async def test_token_shown_once_and_revocable(live: Running) -> None:
    token = await logged_in(live)
    r = await live.client.post("/admin/tokens", data={"csrf": token, "name": "zapier"})
    assert r.status_code == 201
    secret = re.search(r'<code id="new-token">([^<]+)</code>', r.text)
    assert secret
    api = {"Authorization": f"Bearer {secret.group(1)}"}
    assert (await live.client.get("/api/v1/creators", headers=api)).status_code == 200
    page = (await live.client.get("/admin/tokens")).text
    assert secret.group(1) not in page
    record = (await live.store.list_tokens())[0]
    r = await live.client.post(f"/admin/tokens/{record['id']}/revoke", data={"csrf": token})
    assert r.status_code == 303
    assert (await live.client.get("/api/v1/creators", headers=api)).status_code == 401


@pytest.mark.anyio
async def test_import_with_a_bad_row_writes_nothing(live: Running) -> None:
    token = await logged_in(live)
    await live.store.create_creator({"handle": "taken", "platform": "instagram"})
    csv_text = (
        "handle,platform,followers\n"
        "newone,instagram,100\n"
        "newtwo,tiktok,-5\n"
        "Taken,youtube,1\n"
        "newone,youtube,2\n"
    )
    for action in ("preview", "import"):
        r = await live.client.post(
            "/admin/import", data={"csrf": token, "text": csv_text, "action": action}
        )
        assert r.status_code == 422
        assert "row 3: followers" in r.text
        assert "row 4: handle: a creator &#39;Taken&#39; already exists" in r.text
        assert "row 5: handle: &#39;newone&#39; is already in row 2" in r.text
        assert "nothing was written" in r.text
    assert await creator_count(live) == 1


@pytest.mark.anyio
async def test_import_uploaded_file(live: Running) -> None:
    token = await logged_in(live)
    body = (
        "\ufeffhandle,name,platform,followers,category\nuno,Uno,instagram,20000,food\n"
        "dos,Dos,youtube,200000,tech\n"
    )
    r = await live.client.post(
        "/admin/import",
        data={"csrf": token, "action": "preview"},
        files={"file": ("c.csv", body.encode(), "text/csv")},
    )
    assert r.status_code == 200 and "2 rows, all valid" in r.text
    assert await creator_count(live) == 0  # a preview writes nothing
    r = await live.client.post(
        "/admin/import", data={"csrf": token, "action": "import", "text": body.lstrip("\ufeff")}
    )
    assert r.status_code == 303
    assert await creator_count(live) == 2
    latin1 = "handle\ncafé\n".encode("latin-1")
    r = await live.client.post(
        "/admin/import",
        data={"csrf": token, "action": "preview"},
        files={"file": ("c.csv", latin1, "text/csv")},
    )
    assert r.status_code == 422 and "UTF-8" in r.text


@pytest.mark.anyio
async def test_creators_list_filters_sorts_and_pages(live: Running) -> None:
    await logged_in(live)
    rows = [
        {
            "handle": f"c{i:03d}",
            "platform": "tiktok" if i % 2 else "instagram",
            "followers": i * 1000,
            "category": "food" if i % 3 == 0 else "tech",
        }
        for i in range(120)
    ]
    await live.store.import_creators(rows)
    r = await live.client.get("/admin/creators")
    assert "1\u201350 of 120" in r.text and "page 1 / 3" in r.text
    r = await live.client.get("/admin/creators?page=3")
    assert "101\u2013120 of 120" in r.text and "@c119" in r.text
    r = await live.client.get("/admin/creators?sort=followers&dir=desc")
    assert r.text.index("@c119") < r.text.index("@c118")
    r = await live.client.get("/admin/creators?tier=mid")  # 100k..500k followers
    assert "of 20" in r.text and "@c100" in r.text and "@c099" not in r.text
    r = await live.client.get("/admin/creators?platform=tiktok&category=food")
    assert "of 20" in r.text  # odd multiples of 3 below 120
    r = await live.client.get("/admin/creators?q=%40c11")
    assert "of 10" in r.text
    campaign = await live.store.create_campaign({"name": "Launch"})
    for handle in ("c005", "c007"):
        await live.store.create_link(
            {
                "slug": f"l-{handle}",
                "creator_id": handle,
                "campaign_id": campaign["id"],
                "destination": "https://shop.example.com/",
            }
        )
    r = await live.client.get(f"/admin/creators?campaign={campaign['id']}")
    assert "of 2" in r.text and "@c005" in r.text and "@c007" in r.text
    r = await live.client.get("/admin/creators?q=%25&sort=nonsense&page=abc")
    assert r.status_code == 200 and "No creator matches" in r.text


@pytest.mark.anyio
async def test_creator_detail_shows_links_qr_and_clicks(live: Running) -> None:
    await logged_in(live)
    creator = await live.store.create_creator({"handle": "qrme", "platform": "instagram"})
    await live.store.create_link(
        {"slug": "qr-link", "creator_id": creator["id"], "destination": "https://shop.example.com/"}
    )
    for _ in range(3):
        assert (
            await live.client.get(
                "/qr-link",
                headers={
                    "user-agent": "Mozilla/5.0 "
                    "(Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
                },
                follow_redirects=False,
            )
        ).status_code == 302
    await live.flush()
    r = await live.client.get("/admin/creators/qrme")
    assert r.status_code == 200
    assert re.search(r'<svg viewBox="[0-9 ]+" class="qr"', r.text)
    assert 'data-copy="http://127.0.0.1:8000/qr-link"' in r.text
    assert "3 clicks" in r.text and '<svg class="chart"' in r.text
    assert (await live.client.get("/admin/creators/nobody")).status_code == 404
    dash = (await live.client.get("/admin/")).text
    assert re.search(r'Clicks</span><span class="kpi-value">3<', dash)


@pytest.mark.anyio
async def test_edit_creator_and_disable_link(live: Running) -> None:
    token = await logged_in(live)
    creator = await live.store.create_creator({"handle": "editme", "platform": "instagram"})
    await live.store.create_link(
        {
            "slug": "edit-link",
            "creator_id": creator["id"],
            "destination": "https://shop.example.com/",
        }
    )
    assert (await live.client.get("/edit-link")).status_code == 302  # cached as active
    r = await live.client.post(
        f"/admin/creators/{creator['id']}",
        data={"csrf": token, "handle": "editme", "followers": "-1"},
    )
    assert r.status_code == 422 and "followers" in r.text
    r = await live.client.post(
        f"/admin/creators/{creator['id']}",
        data={
            "csrf": token,
            "handle": "edited",
            "followers": "120000",
            "platform": "youtube",
            "status": "disabled",
        },
    )
    assert r.status_code == 303
    row = await live.store.get_creator(creator["id"])
    assert (row["handle"], row["followers"], row["platform"], row["status"]) == (
        "edited",
        120000,
        "youtube",
        "disabled",
    )
    link = await live.store.get_link("edit-link")
    r = await live.client.post(
        f"/admin/links/{link['id']}/status",
        data={"csrf": token, "status": "disabled", "back": "creator"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/creators/")
    assert (await live.client.get("/edit-link")).status_code == 410  # cache invalidated
    r = await live.client.post(
        f"/admin/links/{link['id']}/status", data={"csrf": token, "status": "deleted"}
    )
    assert r.status_code == 422
    r = await live.client.post(
        f"/admin/links/{link['id']}/status", data={"csrf": token, "status": "active"}
    )
    assert r.status_code == 303 and (await live.client.get("/edit-link")).status_code == 302


HOSTILE = [
    "\x00",
    "a\x00b",
    "%",
    "'; DROP TABLE creators; --",
    "\ud800",
    "x" * 5000,
    "../..",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999",
]


@pytest.mark.anyio
async def test_hostile_input_never_500(live: Running) -> None:
    token = await logged_in(live)
    creator = await live.store.create_creator({"handle": "target", "platform": "instagram"})
    for value in HOSTILE:
        safe = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        for param in (
            "q",
            "tier",
            "platform",
            "category",
            "status",
            "campaign",
            "sort",
            "dir",
            "page",
        ):
            r = await live.client.get("/admin/creators", params={param: safe})
            assert r.status_code < 500, (param, value)
            assert "<script>alert" not in r.text
        for path in (f"/admin/creators/{creator['id']}", "/admin/links", "/admin/creators"):
            assert (
                await live.client.get(path, params={"page": safe, "creator": safe})
            ).status_code < 500
        forms = [
            ("/admin/creators", {"handle": safe, "name": safe, "followers": safe}),
            (f"/admin/creators/{creator['id']}", {"name": safe, "category": safe}),
            (
                "/admin/links",
                {
                    "destination": safe,
                    "creator_id": safe,
                    "slug": safe,
                    "campaign_id": safe,
                    "title": safe,
                },
            ),
            ("/admin/campaigns", {"name": safe, "budget": safe, "starts_on": safe}),
            ("/admin/tokens", {"name": safe}),
            ("/admin/import", {"text": f"handle,name\n{safe},{safe}\n", "action": "import"}),
            ("/admin/login", {"email": safe, "password": safe}),
        ]
        for path, form in forms:
            r = await live.client.post(path, data={**form, "csrf": token})
            assert r.status_code < 500, (path, value, r.text[:300])
        r = await live.client.post(
            f"/admin/links/{quote(safe[:50], safe='')}/status",
            data={"csrf": token, "status": "disabled"},
        )
        assert r.status_code < 500
    assert (await live.client.get("/admin/creators/%00")).status_code < 500


@pytest.mark.anyio
async def test_uploaded_file_with_nul_is_refused(live: Running) -> None:
    token = await logged_in(live)
    r = await live.client.post(
        "/admin/import",
        data={"csrf": token, "action": "preview"},
        files={"file": ("c.csv", b"handle,name\nx,a\x00b\n", "text/csv")},
    )
    assert r.status_code == 422 and "NUL" in r.text
    assert await creator_count(live) == 0


@pytest.mark.anyio
async def test_roi_page_model_range_sort_and_csv(live: Running) -> None:
    await logged_in(live, "viewer")  # read-only users see reports too
    for handle, n in (("alpha", 3), ("beta", 1)):
        creator = await live.store.create_creator({"handle": handle, "platform": "tiktok"})
        await live.store.create_link(
            {
                "slug": f"roi-{handle}",
                "creator_id": creator["id"],
                "destination": "https://shop.example.com/",
            }
        )
        for _ in range(n):
            await live.client.get(
                f"/roi-{handle}",
                headers={
                    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0"
                },
            )
    await live.flush()
    r = await live.client.get("/admin/reports?dimension=creator&model=linear")
    assert r.status_code == 200, r.text
    assert '<option value="linear" selected>' in r.text
    assert "alpha" in r.text and "beta" in r.text and "Total" in r.text
    r = await live.client.get("/admin/reports?dimension=creator&sort=clicks&dir=asc")
    assert r.text.index(">beta<") < r.text.index(">alpha<")
    r = await live.client.get("/admin/reports?dimension=creator&sort=clicks&dir=asc&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0].startswith("Creator,Tier,Platform,Clicks,Human clicks")
    assert lines[1].startswith("beta,") and lines[2].startswith("alpha,")
    assert lines[-1].startswith("Total,")
    for dimension in ("tier", "campaign", "category", "platform", "link", "content_type"):
        assert (
            await live.client.get(f"/admin/reports?dimension={dimension}")
        ).status_code == 200, dimension
    # A fee on alpha: the creator table's total cost is the sum of its rows'; links carry no
    # cost, so the link table's total cost reads as its rows do (was 0.00 under rows of —)
    alpha = await live.store.get_creator("alpha")
    today = datetime.now(UTC).date().isoformat()
    await live.store.add_cost(
        {"creator_id": alpha["id"], "kind": "fee", "amount_minor": 12345, "currency": "USD",
         "incurred_on": today, "note": ""}
    )  # fmt: skip
    by_creator = await live.client.get("/admin/reports?dimension=creator&format=csv")
    sheet = list(csv.DictReader(io.StringIO(by_creator.text)))
    assert [r["Cost (USD)"] for r in sheet] == ["123.45", "0.00", "123.45"]  # alpha, beta, Total
    for fmt in ("&format=csv", ""):
        by_link = await live.client.get("/admin/reports?dimension=link" + fmt)
        if fmt:
            sheet = list(csv.DictReader(io.StringIO(by_link.text)))
            assert sheet[-1]["Link"] == "Total" and len(sheet) == 3, sheet
            assert {r["Cost (USD)"] for r in sheet} == {"—"}, sheet
        else:
            head = by_link.text[by_link.text.index("<thead>") : by_link.text.index("</thead>")]
            heads = [h.strip() for h in re.findall(r">([^<>]+)</a>", head)]
            foot = by_link.text[by_link.text.index("<tfoot>") : by_link.text.index("</tfoot>")]
            cells = re.findall(r"<td[^>]*>([^<]*)</td>", foot)
            assert cells[heads.index("Cost (USD)")] == "—", (heads, cells)
    dash = (await live.client.get("/admin/")).text
    assert 'id="portfolio"' in dash and "Creators by ROI band" in dash
    assert dash.count('<svg class="chart"') == 3  # clicks, orders, revenue
    assert (await live.client.get("/admin/reports?model=nonsense")).status_code == 400
    assert (await live.client.get("/admin/reports?start=2026-13-01")).status_code == 400
    assert (await live.client.get("/admin/reports?dimension=planet")).status_code == 400


@pytest.mark.anyio
async def test_settings_page_never_shows_secrets(live: Running) -> None:
    from tests.conftest import SECRET

    await logged_in(live, "viewer")
    r = await live.client.get("/admin/settings")
    assert r.status_code == 200
    assert "TRACKER_LOOKBACK_CLICK_DAYS" in r.text and "TRACKER_BASE_URL" in r.text
    assert SECRET not in r.text and "(set, not shown)" in r.text
    url = live.state.settings.database_url
    if "@" in url and ":" in url.split("@")[0].split("//")[1]:
        assert url.split("@")[0].split(":")[-1] not in r.text


def test_database_password_masked() -> None:
    from admin.pages import _shown

    assert _shown("TRACKER_DATABASE_URL", "postgresql://app:s3cr3t@db:5432/x") == (
        "postgresql://app:***@db:5432/x"
    )
    assert _shown("TRACKER_SECRET_KEY", "k" * 40) == "(set, not shown)"
    assert _shown("TRACKER_ALLOWED_HOSTS", ()) == "(empty)"


@pytest.mark.anyio
async def test_disabling_a_user_ends_their_session_at_once(live: Running) -> None:
    await logged_in(live)
    assert (await live.client.get("/admin/")).status_code == 200
    await live.store.update_admin_user(ADMIN, {"status": "disabled"})
    assert (await live.client.get("/admin/")).status_code == 303
    assert (await login(live.client, ADMIN)).status_code == 401  # and cannot log in again


@pytest.mark.anyio
async def test_expired_session_is_refused(live: Running) -> None:
    await add_user(live, ADMIN, "admin")
    user = await live.store.get_admin_user(ADMIN)
    await live.store.create_admin_session("e" * 64, user["id"], "2000-01-01T00:00:00.000000Z")
    assert await live.store.admin_session_user("e" * 64) is None
    await live.store.create_admin_session("f" * 64, user["id"], "2999-01-01T00:00:00.000000Z")
    assert (await live.store.admin_session_user("f" * 64))["role"] == "admin"
