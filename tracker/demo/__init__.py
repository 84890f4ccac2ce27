"""``tracker demo``: a realistic portfolio, dated within the last 30 days, so every page and
report has content in the first minute.

It goes through the same doors as production data: creators, campaigns, links, codes and
shops through the catalogue services; orders as signed postbacks of each platform
(Shopify, WooCommerce, generic Standard Webhooks) through the real app and ingest path, so
touches and explanations are exactly what a live shop would produce; clicks as the click
writer stores them (fingerprints keyed by this server's secret, so fingerprint matching
works); costs and posts through the same row builders as the API and CSV import.

The store must hold no creators yet (it never mixes demo rows into real data).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tracker import schemas
from tracker.app import create_app
from tracker.catalogue import codes as code_service
from tracker.catalogue import shops as shop_service
from tracker.catalogue.creators import PLATFORMS
from tracker.clicks import agents
from tracker.core import clock, ids
from tracker.core.errors import Conflict, Rejected
from tracker.demo import postbacks
from tracker.links import service as link_service
from tracker.reports import costs as cost_service
from tracker.schemas import validate
from tracker.settings import Settings

DAYS = 30
UNKNOWN_CODE = "WELCOME10"  # a code the shop made and never told us about: the triage example
CATEGORIES = ("beauty", "fitness", "food", "tech", "travel", "gaming", "fashion", "home")
FIRST = [
    "mia",
    "lena",
    "noah",
    "emma",
    "liam",
    "zoe",
    "kai",
    "ava",
    "leo",
    "nora",
    "max",
    "ivy",
    "sam",
    "ella",
    "finn",
    "lily",
    "theo",
    "ruby",
    "jay",
    "maya",
    "ben",
    "iris",
    "alex",
    "luna",
    "owen",
    "cleo",
    "ezra",
    "ada",
]
LAST = [
    "glow",
    "fit",
    "eats",
    "tech",
    "roams",
    "plays",
    "style",
    "nest",
    "daily",
    "lab",
    "cooks",
    "lifts",
    "trails",
    "looks",
    "byte",
    "home",
    "vibes",
    "studio",
    "kitchen",
    "journey",
]
#: Shoppers' browsers; their device, OS and browser are read as the click capture reads
#: them (``agents.describe``), so the Audience page shows the demo as it shows real clicks.
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 326.0.3.30.91 (iPhone14,5; iOS 17_4; "
    "en_US; en; scale=3.00; 1170x2532; 585336364)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36 "
    "musical_ly_2023403030 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly "
    "app_version/34.3.3 ByteLocale/en BytedanceWebview/d8a21c6",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Safari/605.1.15",
)
BOT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
_describe = functools.cache(agents.describe)
LANGS = ("en-US,en;q=0.9", "en-GB,en;q=0.8", "de-DE,de;q=0.9,en;q=0.5", "fr-FR,fr;q=0.9")


@dataclass
class Visitor:
    ip: str
    ua: str
    lang: str
    fingerprint: str
    email: str
    clicks: list[tuple[str, datetime, str]] = field(default_factory=list)  # id, at, creator


@dataclass
class Shop:
    slug: str
    platform: str
    secret: str
    currency: str


async def load(
    app: Any, *, creators: int = 300, orders: int = 1200, seed: int = 7
) -> dict[str, int]:
    """Fill the (empty) store of ``app`` (a started ``tracker.app`` application)."""
    state = app.state.tracker
    store, settings = state.store, state.settings
    if (await store.panel_totals())["creators"]:
        raise Conflict("the store already holds creators: run the demo on an empty data dir")
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=DAYS - 1)
    campaign_rows = await _campaigns(store, now)
    creator_rows = await _creators(store, rng, creators)
    links = await _links(store, settings, rng, creator_rows, campaign_rows, now)
    code_rows = await code_service.bulk_generate(
        store, {"pattern": "handle_number", "number": 15, "value_type": "percent", "value": 15}
    )
    code_of = {c["creator_id"]: c["code"] for c in code_rows}
    shops = await _shops(store)
    visitors, n_clicks = await _clicks(state, rng, links, start, now)
    stats = await _orders(app, settings, rng, shops, visitors, code_of, creator_rows, orders, now)
    n_costs = await _costs(store, rng, creator_rows, campaign_rows, start, now)
    n_posts = await _posts(store, rng, creator_rows, start, now)
    return {
        "creators": len(creator_rows),
        "campaigns": len(campaign_rows),
        "links": len(links),
        "codes": len(code_rows),
        "shops": len(shops),
        "clicks": n_clicks,
        "costs": n_costs,
        "posts": n_posts,
        **stats,
    }


async def _campaigns(store: Any, now: datetime) -> list[dict[str, Any]]:
    specs = [  # name, starts (days from today), ends, budget in minor units (USD)
        ("Spring launch", -35, -3, 1_500_000),
        ("Glow serum", -28, 30, 800_000),
        ("Summer fitness", -20, 40, 1_200_000),
        ("Creator always-on", -60, 300, 2_500_000),
        ("Holiday preview", 5, 40, 600_000),  # scheduled: starts in 5 days
    ]
    out = []
    for name, starts, ends, budget in specs:
        model = validate(
            schemas.CampaignIn,
            {
                "name": name,
                "starts_on": (now + timedelta(days=starts)).date().isoformat(),
                "ends_on": (now + timedelta(days=ends)).date().isoformat(),
                "budget_minor": budget,
                "currency": "USD",
            },
        )
        out.append(await store.create_campaign(schemas.to_row(model)))
    return out


async def _creators(store: Any, rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(rows) < n:
        handle = f"{rng.choice(FIRST)}{rng.choice(LAST)}{rng.randrange(10, 99)}"
        if handle in seen:
            continue
        seen.add(handle)
        rows.append(
            {
                "handle": handle,
                "name": handle.title(),
                "platform": rng.choice(PLATFORMS[:4]),
                "followers": int(min(rng.lognormvariate(10.5, 1.4), 5_000_000)),
                "category": rng.choice(CATEGORIES),
            }
        )
    await store.import_creators(rows)
    found, _ = await store.search_creators(limit=n + 10)
    return list(found)


async def _links(
    store: Any,
    settings: Settings,
    rng: random.Random,
    creators: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    out = []
    live = campaigns[:4]
    for c in creators:
        for j in range(rng.choice((1, 1, 2, 2, 3))):
            campaign = rng.choice(live)
            data: dict[str, Any] = {
                "destination": f"https://shop.example.com/products/{rng.choice(CATEGORIES)}-{j}",
                "creator_id": c["id"],
                "campaign_id": campaign["id"],
                "content_type": rng.choice(("reel", "story", "video", "post")),
            }
            roll = rng.random()
            if roll < 0.04:
                data["expires_at"] = postbacks.iso(now - timedelta(days=rng.randrange(1, 10)))
            elif roll < 0.07:
                data["status"] = "disabled"
            model = validate(schemas.LinkIn, data)
            link = await link_service.create_link(
                store, settings, schemas.to_row(model), model.model_fields_set
            )
            out.append({**link, "expired": "expires_at" in data})
    return out


async def _shops(store: Any) -> list[Shop]:
    out = []
    for slug, platform, currency in (
        ("demo-shopify", "shopify", "USD"),
        ("demo-woo", "woocommerce", "USD"),
        ("demo-app", "generic", "USD"),
    ):
        model = validate(
            schemas.ShopIn,
            {
                "slug": slug,
                "name": slug.replace("-", " ").title(),
                "platform": platform,
                "currency": currency,
            },
        )
        _, shown = await shop_service.create(store, schemas.to_row(model))
        out.append(Shop(slug, platform, shown["secret"], currency))
    return out


async def _clicks(
    state: Any, rng: random.Random, links: list[dict[str, Any]], start: datetime, now: datetime
) -> tuple[list[Visitor], int]:
    """Visitors (a fingerprint each) clicking links, log-normally weighted: a few links take most."""
    live = [ln for ln in links if ln["status"] == "active" and not ln["expired"]]
    weights = [rng.lognormvariate(0, 1.1) for _ in live]
    visitors = []
    for i in range(6000):
        ua = rng.choice(USER_AGENTS)
        ip = f"{rng.randrange(11, 220)}.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 1}"
        lang = rng.choice(LANGS)
        visitors.append(
            Visitor(ip, ua, lang, state.capture.fingerprint(ip, ua), f"shopper{i}@demo.test")
        )
    rows = []
    span = (now - start).total_seconds()
    for v in visitors:
        for link in rng.choices(live, weights, k=rng.choice((1, 1, 2, 3, 5))):
            at = start + timedelta(seconds=rng.random() * span)
            cid = ids.click_id()
            v.clicks.append((cid, at, link["creator_id"]))
            tags = (state.capture.ip_tag(v.ip), state.capture.lang_tag(v.lang))
            country = state.capture.countries.from_address(v.ip)  # the real lookup
            rows.append(_click_row(cid, at, link, v.fingerprint, v.ua) + tags + (country,))
    for _ in range(len(rows) // 12):  # link previews and crawlers: redirected, not counted
        link = rng.choice(live)
        at = start + timedelta(seconds=rng.random() * span)
        bot = _click_row(ids.click_id(), at, link, None, BOT)
        rows.append((*bot, None, None))
    rows.sort(key=lambda r: r[1])
    for i in range(0, len(rows), 5000):
        await state.store.insert_clicks(rows[i : i + 5000])
    return visitors, len(rows)


def _subscriber(rng: random.Random, i: int) -> Visitor:
    """A shopper who never clicked a creator's link (an address no click came from)."""
    return Visitor(
        f"2001:db8::{i:x}", rng.choice(USER_AGENTS), rng.choice(LANGS), "", f"n{i}@d.test"
    )


def _click_row(
    cid: str, at: datetime, link: dict[str, Any], fp: str | None, ua: str
) -> tuple[Any, ...]:
    device, os_, browser, bot_reason = _describe(ua)
    return (
        cid,
        clock.to_iso(at),
        link["slug"],
        link["id"],
        link["creator_id"],
        fp,
        device,
        os_,
        browser,
        int(bot_reason is not None),
        bot_reason,
        0,
        "instagram.com" if bot_reason is None else None,
        None,
        "GET",
    )


async def _orders(
    app: Any,
    settings: Settings,
    rng: random.Random,
    shops: list[Shop],
    visitors: list[Visitor],
    code_of: dict[str, str],
    creators: list[dict[str, Any]],
    n: int,
    now: datetime,
) -> dict[str, int]:
    """Signed postbacks through the real app: code, click id, fingerprint, unknown code."""
    stats = {"orders": 0, "refunded": 0, "unknown_code": 0}
    jobs = []
    clicked = [v for v in visitors if v.clicks]
    for i in range(n):
        v = rng.choice(clicked)
        cid, click_at, creator_id = rng.choice(v.clicks)
        room = max(0.0, (now - timedelta(minutes=5) - click_at).total_seconds())
        placed = click_at + timedelta(seconds=rng.random() * min(room, 72 * 3600))
        roll = rng.random()
        order: dict[str, Any] = {
            "n": 5000 + i,
            "placed": placed,
            "total": int(rng.lognormvariate(8.7, 0.6)),  # ~60 USD median
            "codes": [],
            "click_id": None,
            "visitor": v,
            "new": rng.random() < 0.6,
            "refund": 0,
        }
        if roll < 0.42:
            order["codes"] = [code_of.get(creator_id) or rng.choice(list(code_of.values()))]
        elif roll < 0.68:
            order["click_id"] = cid
        elif roll < 0.78:  # a newsletter subscriber who never clicked a creator's link
            order["codes"] = [UNKNOWN_CODE]
            order["visitor"] = _subscriber(rng, i)
            stats["unknown_code"] += 1
        elif roll < 0.83:  # a code of another creator: a leak or a conflict
            order["codes"] = [code_of[rng.choice(creators)["id"]]]
            order["click_id"] = cid
        elif roll < 0.85:  # one creator's code escaped to a coupon site
            order["codes"] = [code_of[creators[0]["id"]]]
            order["referrer"] = "https://www.retailmenot.com/view/shop.example.com"
        if not i % 4:  # a post-purchase survey answer, without drawing from rng
            order["survey"] = _survey_answer(creators, creator_id, i)
        if rng.random() < 0.06:
            order["refund"] = order["total"] if rng.random() < 0.5 else order["total"] // 3
            stats["refunded"] += 1
        shop = shops[0] if order.get("referrer") or not i % 5 else shops[i % len(shops)]
        jobs.append((shop, order))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
        for chunk in range(0, len(jobs), 16):
            answers = await asyncio.gather(
                *(_post(client, settings, shop, o) for shop, o in jobs[chunk : chunk + 16])
            )
            stats["orders"] += sum(1 for a in answers if a < 300)
    return stats


def _survey_answer(creators: list[dict[str, Any]], creator_id: str, i: int) -> str:
    """What shoppers type: an @handle, the handle with two letters swapped, the name, or a
    platform that names nobody."""
    creator = next((c for c in creators if c["id"] == creator_id), creators[0])
    handle = str(creator["handle"])
    swapped = handle[:2] + handle[3] + handle[2] + handle[4:] if len(handle) > 4 else handle
    return (f"@{handle}", swapped, str(creator.get("name") or handle).lower(), "Instagram")[
        (i // 4) % 4
    ]


async def _post(
    client: httpx.AsyncClient, settings: Settings, shop: Shop, o: dict[str, Any]
) -> int:
    body, headers = postbacks.delivery(
        shop.platform, shop.secret, shop.currency, settings.click_id_param, o
    )
    r = await client.post(f"/postbacks/{shop.platform}/{shop.slug}", content=body, headers=headers)
    return r.status_code


async def _costs(
    store: Any,
    rng: random.Random,
    creators: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    start: datetime,
    now: datetime,
) -> int:
    rows = []
    for c in creators:
        day = (start + timedelta(days=rng.randrange(DAYS))).date()
        fee = int(rng.lognormvariate(8.4, 1.0)) // 100 * 100  # ~45 USD median flat fee
        kinds: list[dict[str, Any]] = [{"kind": "fee", "amount_minor": fee}]
        if rng.random() < 0.25:
            kinds.append({"kind": "product", "amount_minor": rng.choice((2900, 4500, 8900))})
        if rng.random() < 0.2:
            kinds.append({"kind": "commission", "rate_percent": rng.choice((5, 10, 12.5))})
        if rng.random() < 0.1:
            kinds.append({"kind": "labor", "hours": rng.choice((1.5, 3, 4)), "rate_minor": 6000})
        if rng.random() < 0.05:  # a cost paid in a currency without a configured rate
            kinds.append({"kind": "fee", "amount_minor": 25000, "currency": "EUR"})
        for k in kinds:
            data = {
                "creator_id": c["id"],
                "campaign_id": rng.choice(campaigns[:4])["id"],
                "incurred_on": min(day, now.date()).isoformat(),
                "note": "demo",
                **k,
            }
            rows.append(await cost_service.cost_row(store, validate(schemas.CostIn, data)))
    return int(await store.add_costs(rows))


async def _posts(
    store: Any, rng: random.Random, creators: list[dict[str, Any]], start: datetime, now: datetime
) -> int:
    rows: list[dict[str, Any]] = []
    for c in creators:
        for _ in range(rng.choice((1, 2, 2, 3))):
            followers = int(c["followers"])
            reach = int(followers * rng.uniform(0.1, 0.6))
            data = {
                "creator_id": c["id"],
                "platform": c["platform"],
                "format": rng.choice(("reel", "story", "video", "short", "post")),
                "category": c["category"] or "",
                "url": f"https://{c['platform']}.example.com/{c['handle']}/{rng.randrange(10**6)}",
                "posted_at": postbacks.iso(
                    start + timedelta(seconds=rng.random() * (now - start).total_seconds())
                ),
                "likes": int(reach * rng.uniform(0.02, 0.12)),
                "comments": int(reach * rng.uniform(0.001, 0.01)),
                "shares": int(reach * rng.uniform(0.001, 0.02)),
                "saves": int(reach * rng.uniform(0.001, 0.02)),
                "reach": reach,
                "impressions": int(reach * rng.uniform(1.1, 2.0)),
                "followers_at_post": followers,
            }
            if len(rows) % 25 == 24:  # bought likes, for the authentic-engagement page
                data["likes"] *= 8
            rows.append(await cost_service.post_row(store, validate(schemas.PostIn, data)))
    return len(await store.add_posts(rows))


def command(settings: Settings, creators: int, orders: int) -> int:
    """``tracker demo``: start the app in-process, load, print what was made."""
    logging.basicConfig(level="WARNING")

    async def go() -> dict[str, int]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            return await load(app, creators=creators, orders=orders)

    try:
        counts = asyncio.run(go())
    except Rejected as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    print("demo loaded: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    print(
        "next: make run (or .venv/bin/tracker serve), then .venv/bin/tracker admin create "
        f"--email YOU --role admin, and open {settings.base_url}/admin"
    )
    return 0
