"""User agents: never-seen in-app agents are still described (device, OS, browser) and bots
flagged, through a real server; our rules agree with the libraries they replace; and one
client flooding unique agents is slowed down alone, with no click lost (issue 13)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import user_agents
from crawlerdetect import CrawlerDetect

from tests.conftest import Running, Server, free_port, make_settings, running, server_env
from tracker.clicks.agents import Shapes, crawler, describe
from tracker.http.ratelimit import RateLimiter

FIXTURE = Path(__file__).parents[1] / "fixtures" / "user-agents" / "in-app.txt"
IN_APP = [line.strip() for line in FIXTURE.read_text().splitlines() if line.strip()]
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
]
CRAWLERS = [
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; YandexSearch/1.0)",  # crawlerdetect's one look-ahead rule
    "Scrapy/2.11 (+https://scrapy.org)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


def vary(ua: str, step: int) -> str:
    """A never-seen variant of a real agent: every number of 3+ digits (build numbers, ids,
    screen sizes) moved by ``step``, as each app update and device does."""
    return re.sub(r"\d{3,}", lambda m: str(int(m.group()) + step), ua)


def reference(ua: str) -> tuple[str, str, str, bool]:
    """What the previous implementation (user-agents, crawlerdetect) said about an agent."""
    p = user_agents.parse(ua)
    if p.is_mobile:
        device = "mobile"
    elif p.is_tablet:
        device = "tablet"
    elif p.is_pc:
        device = "desktop"
    elif p.is_bot:
        device = "bot"
    else:
        device = "other"
    return device, p.os.family, p.browser.family, p.is_bot or CrawlerDetect().isCrawler(ua)


@pytest.mark.parametrize("ua", IN_APP + BROWSERS + CRAWLERS)
def test_descriptions_match_user_agents_and_crawlerdetect(ua: str) -> None:
    device, os_, browser, reason = describe(ua)
    ref_device, ref_os, ref_browser, ref_bot = reference(ua)
    assert (device, os_, browser) == (ref_device, ref_os, ref_browser)
    if ref_bot:
        assert reason is not None  # flagged by a rule of ours (previewer list or crawler)
    assert (crawler(ua) is not None) == CrawlerDetect().isCrawler(ua)


def test_bot_words_are_found_in_agents_with_non_ascii_bytes() -> None:
    """The bot-word pass searches the agent's UTF-8 bytes: a header's non-ASCII bytes (read
    as latin-1, as the redirect reads them) must neither hide a bot word nor invent one."""
    raw = "Café/1.0 (Linux; Android 14) Googlebot/2.1".encode().decode("latin-1")
    assert describe(raw)[3] is not None
    assert describe("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Café")[3] is None


def test_yandex_look_ahead_rule_is_exact() -> None:
    assert crawler("Mozilla/5.0 (compatible; YandexSearch/1.0)") is None
    assert crawler("Mozilla/5.0 (compatible; YandexMetrika/2.0)") is not None


def test_a_shape_describes_every_digit_variant_of_an_agent_as_the_full_rules_do() -> None:
    """The enricher's shape cache (digits masked) never says what a full description would
    not: 116 real in-app agents, desktop browsers and crawlers, each with 30 variants whose
    every digit is redrawn (build numbers, ids, versions, screens, device models)."""
    rng = random.Random(13)
    agents = [*IN_APP, *BROWSERS, *CRAWLERS]
    variants = [
        re.sub(r"\d", lambda _: str(rng.randrange(10)), ua) for ua in agents for _ in range(30)
    ]
    rng.shuffle(variants)
    shapes = Shapes()
    for ua in variants:
        assert shapes.describe(ua) == describe(ua), ua
    assert shapes.hits > len(variants) // 2  # the cache is used, not bypassed
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert shapes.describe(bot)[3] is not None  # bot words: described in full every time


def test_unseen_limiter_goes_into_debt_and_caps_the_wait() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=10, burst=2, clock=lambda: now[0])
    assert limiter.delay("a", 1.0) == 0.0
    assert limiter.delay("a", 1.0) == 0.0
    waits = [limiter.delay("a", 1.0) for _ in range(30)]
    assert waits[:3] == pytest.approx([0.1, 0.2, 0.3])  # each one waits longer
    assert max(waits) == pytest.approx(1.0)  # never more than max_wait
    assert limiter.delay("b", 1.0) == 0.0  # another client is not touched
    now[0] += 2.0  # 20 tokens refilled: the debt of 10 is repaid, 2 in the bucket (burst)
    assert limiter.delay("a", 1.0) == 0.0


# -- through a real server ---------------------------------------------------------------
@pytest.fixture
def proxied(tmp_path: Path, database_url: str) -> Iterator[Server]:
    """``tracker serve`` behind a trusted proxy (us), so X-Forwarded-For names the client."""
    env = server_env(tmp_path, database_url, TRACKER_TRUSTED_PROXIES="127.0.0.1/32")
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        yield srv
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()


@pytest.mark.slow
def test_never_seen_in_app_agents_are_described_and_bots_flagged_over_http(
    proxied: Server,
) -> None:
    proxied.cli("creator", "create", "--handle", "maya", "--platform", "instagram")
    proxied.cli(
        "link", "create", "--destination", "https://shop.example.com/p", "--creator", "maya",
        "--slug", "maya",
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {proxied.cli('token', 'create', 'ci').strip()}"}
    instagram = next(ua for ua in IN_APP if "Instagram" in ua and "iPhone" in ua)
    facebook = next(ua for ua in IN_APP if "FBAN/FB4A" in ua or "FB_IAB" in ua)
    expected: dict[str, tuple[str, str, str, tuple[str, ...] | None]] = {}
    sent: dict[str, str] = {}
    agents = [vary(ua, 7919) for ua in (instagram, facebook, *IN_APP[::9])]
    crawler_rules = ("ua-parser:spider", "crawlerdetect:")  # uap-core's list, then theirs
    bots: dict[str, tuple[str, ...]] = {
        "facebookexternalhit/1.2 (+http://www.facebook.com/externalhit_uatext.php)": (
            "previewer:facebookexternalhit",
        ),
        "WhatsApp/2.24.99.77 A": ("previewer:whatsapp",),
        "Mozilla/5.0 (compatible; MJ12bot/v1.4.9; http://mj12bot.com/)": crawler_rules,
        "Mozilla/5.0 (compatible; DotBot/1.3; +https://opensiteexplorer.org/dotbot)": (
            crawler_rules
        ),
        "Scrapy/2.12 (+https://scrapy.org)": crawler_rules,
    }
    with httpx.Client(base_url=proxied.url) as client:
        for i, ua in enumerate([*agents, *bots]):
            r = client.get("/maya", headers={"user-agent": ua, "x-forwarded-for": f"198.51.{i}.9"})
            assert r.status_code == 302
            cid = parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]
            sent[cid] = ua
            device, os_, browser, bot = reference(ua)
            # a bot: flagged, with the rule that matched when we know which it must be
            expected[cid] = (device, os_, browser, bots.get(ua, ("",)) if bot else None)
        deadline = time.monotonic() + 20
        while True:
            items = client.get("/api/v1/clicks?link=maya&limit=200", headers=auth).json()["items"]
            if len(items) >= len(sent) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    clicks = {c["id"]: c for c in items}
    assert set(clicks) == set(sent)  # every redirect is a click row, none lost
    ig = next(c for cid, c in clicks.items() if sent[cid] == agents[0])
    assert (ig["device"], ig["os"], ig["browser"], ig["is_bot"]) == (
        "mobile",
        "iOS",
        "Instagram",
        0,
    )
    assert sum(1 for want in expected.values() if want[3] is not None) >= len(bots)
    for cid, (device, os_, browser, reason) in expected.items():
        c = clicks[cid]
        assert (c["device"], c["os"], c["browser"]) == (device, os_, browser), (sent[cid], c)
        if reason is None:
            assert c["is_bot"] == 0 and c["bot_reason"] is None, (sent[cid], c)
        else:
            assert c["is_bot"] == 1 and c["bot_reason"].startswith(reason), (sent[cid], c)
    health = httpx.get(proxied.url + "/healthz").json()["click_writer"]
    assert health["completed"] >= len(sent) and health["dropped"] == 0


# -- one client flooding unique agents ---------------------------------------------------


@pytest.mark.anyio
async def test_a_client_flooding_unseen_agents_waits_alone_and_loses_nothing(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        TRACKER_TRUSTED_PROXIES="203.0.113.7/32",  # the test client's address: our proxy
        TRACKER_UNSEEN_AGENTS_PER_SEC="5",
        TRACKER_UNSEEN_AGENTS_BURST="2",
    )
    async with running(settings) as live:
        await _link(live)
        flood = [vary(IN_APP[0], i) for i in range(1, 7)]
        started = time.monotonic()
        ids = [await _click(live, ua, "203.0.113.50") for ua in flood]
        flooded = time.monotonic() - started
        # 6 unseen agents from one network, 2 at once then 5/s: the last 4 wait ~0.2 s each
        assert flooded >= 4 * 0.2 - 0.05
        # the flooder's debt is its own: another shopper's unseen agent goes straight through
        started = time.monotonic()
        ids.append(await _click(live, vary(IN_APP[1], 3), "198.51.100.20"))
        assert time.monotonic() - started < 0.5  # not behind the flooder's debt
        # a private address names no client of its own (an unlisted proxy): never limited
        started = time.monotonic()
        ids += [await _click(live, vary(IN_APP[2], i), "10.1.2.3") for i in range(1, 7)]
        assert time.monotonic() - started < 4 * 0.2 - 0.05
        await live.flush()
        for cid in ids:
            click = await live.store.get_click(cid)
            assert click is not None and click["browser"] not in ("", None)


async def _link(live: Running) -> None:
    auth = await live.token()
    r = await live.client.post(
        "/api/v1/creators",
        headers=auth,
        json={"handle": "maya", "platform": "tiktok", "followers": 25000},
    )
    assert r.status_code == 201, r.text
    r = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/p", "creator_id": "maya", "slug": "m"},
    )
    assert r.status_code == 201, r.text


async def _click(live: Running, ua: str, ip: str) -> str:
    r = await live.client.get("/m", headers={"user-agent": ua, "x-forwarded-for": ip})
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]
