"""Targeting rules, A/B variants and links that apply the creator's code (issue 17), over
real HTTP (httpx against the app) on both engines; the pure parts without a store.

The 10,000-visitor A/B split through a real server process is in
``tests/links/test_ab_server.py``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.conftest import Running, make_settings, running
from tracker.clicks.agents import describe
from tracker.links.apply import compile_apply
from tracker.links.targeting import (
    Visitor,
    bucket,
    compile_targeting,
    device_key,
    first_language,
    os_key,
    quick_agent,
)

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "user-agents"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SHOP = "https://shop.example.com"
TARGETING = {
    "rules": [
        {"name": "ios", "when": {"os": ["ios"]}, "destination": f"{SHOP}/app-store"},
        {"name": "de", "when": {"country": ["de", "AT"]}, "destination": f"{SHOP}/de/serum"},
        {"name": "french", "when": {"language": ["fr"]}, "destination": f"{SHOP}/fr/serum"},
        {
            "name": "tiktok",
            "when": {"query": {"name": "src", "value": "tiktok"}},
            "destination": f"{SHOP}/p/serum?landing=tt",
        },
        {"name": "desktop", "when": {"device": ["desktop"]}, "destination": f"{SHOP}/p/big"},
    ],
    "variants": [
        {"name": "A", "destination": f"{SHOP}/p/serum", "weight": 1},
        {"name": "B", "destination": f"{SHOP}/p/serum-b", "weight": 1},
    ],
}


# -- pure ------------------------------------------------------------------------------------
def test_quick_agent_agrees_with_the_full_description_on_real_in_app_agents() -> None:
    """Rules read a substring classification (the full description runs in the writer,
    off the redirect). On the real in-app agents of the fixtures it agrees with the full
    description on the OS; on the device, every difference is an Android in-app agent
    without ``Mobile`` that the full description (user-agents' rules) calls a tablet and
    that is mostly a phone (Instagram on a Galaxy A03, an HTC Desire...)."""
    agents = [
        line.strip()
        for path in FIXTURES.glob("*.txt")
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(agents) >= 50
    os_same = 0
    for ua in agents:
        device, os_name, _, _ = describe(ua)
        quick_device, quick_os = quick_agent(ua)
        os_same += quick_os == os_key(os_name)
        if quick_device != device_key(device):
            assert (device, quick_device, quick_os) == ("tablet", "mobile", "android"), ua
            assert any(app in ua for app in ("Instagram ", "FBAN/", "[Pinterest/")), ua
    assert os_same == len(agents)
    assert quick_agent(IPHONE) == ("mobile", "ios")
    assert quick_agent(PIXEL) == ("mobile", "android")
    assert quick_agent(WINDOWS) == ("desktop", "windows")


def test_language_and_rule_matching() -> None:
    assert first_language("fr-CA,fr;q=0.9,en;q=0.8") == "fr-ca"
    assert first_language("") == ""
    routing = compile_targeting(TARGETING, "ln_x", lambda d: d)
    assert routing is not None and routing.needs_agent and routing.needs_query

    def visit(**kw: object) -> str | None:
        base: dict[str, object] = {
            "device": "mobile",
            "os": "android",
            "country": None,
            "language": "",
            "query": {},
        }
        chosen = routing.choose(Visitor(**{**base, **kw}), "0" * 32)  # type: ignore[arg-type]
        return chosen[0] if chosen else None

    assert visit(os="ios", country="DE") == "ios"  # rules in order: the first match wins
    assert visit(country="AT") == "de"
    assert visit(language="fr-ca") == "french"
    assert visit(language="fr") == "french"
    assert visit(language="fy") in ("A", "B")  # no rule: a variant
    assert visit(query={"src": "tiktok"}) == "tiktok"
    assert visit(query={"src": "ig"}) in ("A", "B")
    assert visit(device="desktop", os="windows") == "desktop"


def test_bucket_is_uniform_and_depends_on_the_link() -> None:
    import hashlib

    fps = [hashlib.blake2b(b"%d" % i, digest_size=16).hexdigest() for i in range(10_000)]
    counts = [0] * 4
    for fp in fps:
        counts[bucket(fp, 12345, 4)] += 1
    assert all(abs(c - 2500) < 200 for c in counts), counts
    same = sum(bucket(fp, 1, 2) == bucket(fp, 2, 2) for fp in fps)
    assert 4_500 < same < 5_500  # two links split one shopper independently


def test_apply_urls_keep_utm_and_click_id() -> None:
    page = f"{SHOP}/p/serum?utm_source=tiktok&cl_cid=0f2MQF---geHTuj1#reviews"
    shopify = compile_apply({"kind": "shopify", "code": "MAYA15"})
    assert shopify is not None
    url = shopify.wrap(page)
    assert url.startswith(f"{SHOP}/discount/MAYA15?redirect=")
    redirect = parse_qs(urlsplit(url).query)["redirect"][0]
    assert redirect == "/p/serum?utm_source=tiktok&cl_cid=0f2MQF---geHTuj1"
    woo = compile_apply({"kind": "woocommerce", "code": "MAYA15", "param": "coupon-code"})
    assert woo is not None
    assert woo.wrap(page) == (
        f"{SHOP}/p/serum?utm_source=tiktok&cl_cid=0f2MQF---geHTuj1&coupon-code=MAYA15#reviews"
    )
    tpl = compile_apply(
        {
            "kind": "template",
            "code": "MAYA15",
            "template": f"{SHOP}/a/{{code}}?to={{path}}&{{query}}",
        }
    )
    assert tpl is not None
    url = tpl.wrap(page)
    q = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/a/MAYA15"
    assert q["to"] == ["/p/serum?utm_source=tiktok&cl_cid=0f2MQF---geHTuj1"]
    assert q["cl_cid"] == ["0f2MQF---geHTuj1"] and q["utm_source"] == ["tiktok"]


# -- over HTTP, both engines -----------------------------------------------------------------
async def _setup(live: Running, auth: dict[str, str]) -> None:
    c = live.client
    for handle in ("maya", "bob"):
        r = await c.post("/api/v1/creators", headers=auth, json={"handle": handle})
        assert r.status_code == 201, r.text
    for code, handle in (("MAYA15", "maya"), ("BOB10", "bob")):
        r = await c.post("/api/v1/codes", headers=auth, json={"code": code, "creator_id": handle})
        assert r.status_code == 201, r.text


async def _link(live: Running, auth: dict[str, str], **fields: object) -> dict[str, object]:
    body = {"destination": f"{SHOP}/p/serum", "creator_id": "maya", **fields}
    r = await live.client.post("/api/v1/links", headers=auth, json=body)
    assert r.status_code == 201, r.text
    data: dict[str, object] = r.json()
    return data


async def test_rules_choose_and_the_click_records_the_rule(
    live: Running, auth: dict[str, str]
) -> None:
    await _setup(live, auth)
    link = await _link(live, auth, slug="serum", targeting=TARGETING)
    assert link["targeting"]["rules"][1]["when"]["country"] == ["DE", "AT"]  # type: ignore[index]
    cases = [
        ({"user-agent": IPHONE}, "", "/app-store", "ios"),
        ({"user-agent": PIXEL, "accept-language": "fr-FR,fr;q=0.8"}, "", "/fr/serum", "french"),
        ({"user-agent": PIXEL}, "?src=tiktok&x=1", "/p/serum", "tiktok"),
        ({"user-agent": WINDOWS}, "", "/p/big", "desktop"),
    ]
    seen = []
    for headers, qs, path, name in cases:
        r = await live.client.get(f"/serum{qs}", headers=headers)
        assert r.status_code == 302
        loc = urlsplit(r.headers["location"])
        assert loc.path == path, (name, r.headers["location"])
        q = parse_qs(loc.query)
        assert q["utm_medium"] == ["influencer"] and len(q["cl_cid"][0]) == 16
        if name == "tiktok":
            assert q["landing"] == ["tt"] and q["x"] == ["1"]
        seen.append((q["cl_cid"][0], name))
    await live.flush()
    for click_id, name in seen:
        click = await live.store.get_click(click_id)
        assert click["variant"] == name
    # no rule matches: one of the variants, recorded too
    r = await live.client.get("/serum", headers={"user-agent": PIXEL})
    path = urlsplit(r.headers["location"]).path
    assert path in ("/p/serum", "/p/serum-b")
    await live.flush()
    click_id = parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]
    assert (await live.store.get_click(click_id))["variant"] == ("A" if path == "/p/serum" else "B")


async def test_country_rule_from_a_trusted_cdn_header(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, TRACKER_TRUSTED_PROXIES="203.0.113.0/24"
    )  # the test client's address: a CDN in front of us
    async with running(settings) as live:
        auth = await live.token()
        await _setup(live, auth)
        await _link(live, auth, slug="serum", targeting=TARGETING)
        r = await live.client.get("/serum", headers={"user-agent": PIXEL, "cf-ipcountry": "AT"})
        assert urlsplit(r.headers["location"]).path == "/de/serum"
        r = await live.client.get(
            "/serum", headers={"user-agent": PIXEL, "x-forwarded-for": "81.2.69.160"}
        )  # a British address: no German rule
        assert urlsplit(r.headers["location"]).path in ("/p/serum", "/p/serum-b")


async def test_a_variant_is_sticky_per_visitor(live: Running, auth: dict[str, str]) -> None:
    await _setup(live, auth)
    await _link(live, auth, slug="ab", targeting={"variants": TARGETING["variants"]})
    first = {}
    for i in range(40):
        ua = f"{PIXEL} visitor/{i}"
        r = await live.client.get("/ab", headers={"user-agent": ua})
        first[ua] = urlsplit(r.headers["location"]).path
    assert set(first.values()) == {"/p/serum", "/p/serum-b"}
    for ua, path in first.items():
        r = await live.client.get("/ab", headers={"user-agent": ua})
        assert urlsplit(r.headers["location"]).path == path


HOSTILE = [
    "javascript:alert(1)",
    "//evil.example",
    "https:evil.example",
    "https://user@evil.example/",
    "http://localhost/admin",
    "http://127.0.0.1/",
    "http://[::1]/",
    "https://0x7f.1/",
    "https://shop.example.com/\r\nSet-Cookie: x=1",
    "https://evil.internal/",
    "data:text/html,<script>alert(1)</script>",
    "https://xn--pple-43d.com/",
]


@pytest.mark.parametrize("where", ["rule", "variant"])
async def test_hostile_rule_and_variant_destinations_are_refused(
    live: Running, auth: dict[str, str], where: str
) -> None:
    await _setup(live, auth)
    link = await _link(live, auth, slug="safe")
    for bad in HOSTILE:
        if where == "rule":
            spec = {"rules": [{"name": "r", "when": {"os": ["ios"]}, "destination": bad}]}
        else:
            spec = {"variants": [{"name": "A", "destination": bad, "weight": 1}]}
        r = await live.client.post(
            "/api/v1/links", headers=auth, json={"destination": f"{SHOP}/", "targeting": spec}
        )
        assert r.status_code == 422, (bad, r.text)
        r = await live.client.patch(
            f"/api/v1/links/{link['id']}", headers=auth, json={"targeting": spec}
        )
        assert r.status_code == 422, (bad, r.text)
    r = await live.client.get("/safe", headers={"user-agent": IPHONE})
    assert r.headers["location"].startswith(f"{SHOP}/p/serum?")  # nothing was changed


async def test_bad_targeting_specs_are_422(live: Running, auth: dict[str, str]) -> None:
    await _setup(live, auth)
    bad_specs = [
        {"rules": [{"name": "r", "when": {}, "destination": f"{SHOP}/x"}]},  # no condition
        {"rules": [{"name": "r", "when": {"os": ["beos"]}, "destination": f"{SHOP}/x"}]},
        {"rules": [{"name": "r", "when": {"country": ["USA"]}, "destination": f"{SHOP}/x"}]},
        {"variants": [{"name": "A", "destination": f"{SHOP}/a", "weight": 0}]},
        {"variants": [{"name": "A", "destination": f"{SHOP}/a", "weight": -1}]},
        {
            "variants": [
                {"name": "A", "destination": f"{SHOP}/a"},
                {"name": "a", "destination": f"{SHOP}/b"},
            ]
        },
        {"variants": [{"name": "<script>", "destination": f"{SHOP}/a"}]},
        {"variants": [{"name": f"v{i}", "destination": f"{SHOP}/a"} for i in range(11)]},
    ]
    for spec in bad_specs:
        r = await live.client.post(
            "/api/v1/links", headers=auth, json={"destination": f"{SHOP}/", "targeting": spec}
        )
        assert r.status_code == 422, (spec, r.text)


async def test_links_that_apply_the_code(live: Running, auth: dict[str, str]) -> None:
    await _setup(live, auth)
    await _link(live, auth, slug="shopify", apply_code={"kind": "shopify"})
    r = await live.client.get("/shopify?utm_term=spring", headers={"user-agent": IPHONE})
    loc = urlsplit(r.headers["location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "shop.example.com", "/discount/MAYA15")
    page = urlsplit(unquote(parse_qs(loc.query)["redirect"][0]))
    q = parse_qs(page.query)
    assert page.path == "/p/serum" and q["utm_content"] == ["maya"] and q["utm_term"] == ["spring"]
    click_id = q["cl_cid"][0]
    await live.flush()
    assert (await live.store.get_click(click_id))["link_id"] is not None

    await _link(
        live,
        auth,
        slug="woo",
        destination="https://woo.example.com/shop/serum/",
        apply_code={"kind": "woocommerce", "code": "MAYA15", "param": "coupon-code"},
    )
    r = await live.client.get("/woo")
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["coupon-code"] == ["MAYA15"] and len(q["cl_cid"][0]) == 16 and "utm_source" in q

    template = "https://shop.example.com/apply/{code}?next={path}"
    await _link(live, auth, slug="tpl", apply_code={"kind": "template", "template": template})
    r = await live.client.get("/tpl")
    loc = urlsplit(r.headers["location"])
    assert loc.path == "/apply/MAYA15"
    nxt = urlsplit(parse_qs(loc.query)["next"][0])
    assert nxt.path == "/p/serum" and "cl_cid" in parse_qs(nxt.query)

    # with a rule: the rule's page, through the same code-applying URL
    await _link(
        live,
        auth,
        slug="both",
        apply_code={"kind": "shopify"},
        targeting={"rules": TARGETING["rules"][:1]},
    )
    r = await live.client.get("/both", headers={"user-agent": IPHONE})
    redirect = parse_qs(urlsplit(r.headers["location"]).query)["redirect"][0]
    assert redirect.startswith("/app-store?")


async def test_apply_code_refusals(live: Running, auth: dict[str, str]) -> None:
    await _setup(live, auth)
    bad = [
        {"kind": "shopify", "code": "BOB10"},  # another creator's code
        {"kind": "shopify", "code": "NOPE99"},  # no such code
        {"kind": "template", "template": "https://{code}.evil.example/{path}"},
        {"kind": "template", "template": "javascript:alert('{code}')"},
        {"kind": "template", "template": "https://shop.example.com/{nope}"},
        {"kind": "template", "template": "http://localhost/{code}"},
        {"kind": "template"},
        {"kind": "magento", "code": "MAYA15"},
    ]
    for spec in bad:
        r = await live.client.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": f"{SHOP}/", "creator_id": "maya", "apply_code": spec},
        )
        assert r.status_code == 422, (spec, r.text)
    link = await _link(live, auth, slug="m", apply_code={"kind": "shopify"})
    r = await live.client.patch(
        f"/api/v1/links/{link['id']}", headers=auth, json={"creator_id": "bob"}
    )
    assert r.status_code == 422, r.text  # MAYA15 would then credit the wrong creator
    r = await live.client.patch(
        f"/api/v1/links/{link['id']}", headers=auth, json={"apply_code": None}
    )
    assert r.status_code == 200 and r.json()["apply_code"] is None
    r = await live.client.get("/m")
    assert urlsplit(r.headers["location"]).path == "/p/serum"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_takes_targeting_and_apply_code_as_json(tmp_path: Path, database_url: str) -> None:
    import json
    import subprocess

    from tests.conftest import run_cli, server_env

    env = server_env(tmp_path, database_url)

    def tracker(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, *args)

    spec = json.dumps({"variants": TARGETING["variants"]})
    out = tracker(
        "link", "create", "--destination", f"{SHOP}/p", "--slug", "cli", "--targeting", spec
    )
    assert out.returncode == 0, out.stderr
    assert [v["name"] for v in json.loads(out.stdout)["targeting"]["variants"]] == ["A", "B"]
    bad = json.dumps({"variants": [{"name": "A", "destination": "javascript:alert(1)"}]})
    out = tracker("link", "update", "cli", "--targeting", bad)
    assert out.returncode != 0 and "only absolute http" in out.stderr
