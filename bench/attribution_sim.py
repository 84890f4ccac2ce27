"""A simulated world with a known truth: how often is the right creator credited?

    .venv/bin/python bench/attribution_sim.py                  # 3,000 shoppers, SQLite
    .venv/bin/python bench/attribution_sim.py --shoppers 500 --database-url postgresql://...
    make sim

Creators post links (and codes); shoppers own devices (a phone, often a desktop at home);
phones on a carrier share a few /24 blocks with many other phones, and every iPhone on one
iOS version sends the same user agent; some buyers click on the phone and buy on the
desktop (cross-device); orders reach three shops (Shopify in USD, WooCommerce in EUR without
accept-language, the generic postback in JPY), some carry the click id, some a code (some
codes leaked to strangers); some are refunded or cancelled, some edits arrive out of order,
some deliveries are replayed, and some clicks are committed only after their order (another
node's batch), then the re-match pass runs. Every click and order goes through the real app
over HTTP with signed payloads; the truth is the creator whose link the buyer clicked.

Figures (over orders that count): accuracy (credited creator == truth, "nobody" included),
precision (credited orders credited to the right creator), recall (orders with a true
creator credited to it), each beside a code-only baseline (the code's creator, else
nobody), and the fingerprint's true precision beside the product's own estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from standardwebhooks import Webhook  # noqa: E402

from tracker.app import create_app  # noqa: E402
from tracker.clicks.agents import describe  # noqa: E402
from tracker.settings import Settings  # noqa: E402

PROXY = "203.0.113.7"
SHOPIFY_SECRET = "shpss_sim_0123456789abcdef"
FIXTURES = ROOT / "tests" / "fixtures"
IOS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
]
DESKTOP = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
]
LANGS = ["en-US,en;q=0.9"] * 8 + ["de-DE,de;q=0.9,en;q=0.8", "es-ES,es;q=0.9"]


def android_agents() -> list[str]:
    lines = (FIXTURES / "user-agents" / "in-app.txt").read_text().splitlines()
    return [ua for ua in lines if ua.strip() and describe(ua)[3] is None]


@dataclass
class Device:
    ua: str
    lang: str
    ip: str
    block: str | None = None  # a carrier block: the address may change within it

    def address(self, rng: random.Random) -> str:
        if self.block and rng.random() < 0.4:  # carrier NAT hands out another address
            return f"{self.block}.{rng.randrange(1, 255)}"
        return self.ip


@dataclass
class Shopper:
    phone: Device
    desktop: Device | None


@dataclass
class Figures:
    orders: int = 0
    truth: dict[str, str | None] = field(default_factory=dict)  # order key -> creator handle
    baseline: dict[str, str | None] = field(default_factory=dict)


def _world(rng: random.Random, shoppers: int) -> list[Shopper]:
    android = android_agents()
    blocks = [f"198.18.{i}" for i in range(max(2, shoppers // 60))]  # ~60 phones per block
    out = []
    for n in range(shoppers):
        home = f"100.{64 + n // 250}.{n % 250}"
        lang = rng.choice(LANGS)
        ua = rng.choice(IOS) if rng.random() < 0.55 else rng.choice(android)
        if rng.random() < 0.7:
            block = rng.choice(blocks)
            phone = Device(ua, lang, f"{block}.{rng.randrange(1, 255)}", block)
        else:
            phone = Device(ua, lang, f"{home}.{rng.randrange(2, 250)}")
        desktop = (
            Device(rng.choice(DESKTOP), lang, f"{home}.{rng.randrange(2, 250)}")
            if rng.random() < 0.5
            else None
        )
        out.append(Shopper(phone, desktop))
    return out


def _b64hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Sim:
    def __init__(self, client: httpx.AsyncClient, app: Any, rng: random.Random) -> None:
        self.c = client
        self.app = app
        self.rng = rng
        self.auth: dict[str, str] = {}
        self.secrets: dict[str, str] = {}

    async def setup(self, creators: int) -> list[str]:
        _, token = await self.app.state.tracker.store.create_token("sim")
        self.auth = {"Authorization": f"Bearer {token}"}
        handles = []
        for i in range(creators):
            h = f"creator{i}"
            await self.c.post("/api/v1/creators", headers=self.auth, json={"handle": h})
            await self.c.post(
                "/api/v1/links",
                headers=self.auth,
                json={"destination": "https://shop.example.com/", "slug": h, "creator_id": h},
            )
            await self.c.post(
                "/api/v1/codes", headers=self.auth, json={"code": f"SIM{i}", "creator_id": h}
            )
            handles.append(h)
        for slug, platform, extra in (
            ("us", "shopify", {"secret": SHOPIFY_SECRET}),
            ("eu", "woocommerce", {}),
            ("jp", "generic", {"currency": "JPY"}),
        ):
            r = await self.c.post(
                "/api/v1/shops",
                headers=self.auth,
                json={"slug": slug, "platform": platform, **extra},
            )
            self.secrets[slug] = r.json()["secret"]
        return handles

    async def click(self, slug: str, dev: Device, ip: str) -> str:
        r = await self.c.get(
            f"/{slug}",
            headers={"user-agent": dev.ua, "accept-language": dev.lang, "x-forwarded-for": ip},
        )
        return r.headers["location"].split("cl_cid=")[1].split("&")[0]

    async def order(
        self,
        key: str,
        dev: Device,
        ip: str,
        click_id: str | None,
        code: str | None,
        fate: str,
    ) -> None:
        shop = self.rng.choice(["us", "eu", "jp"])
        now = datetime.now(UTC).replace(microsecond=0)
        if shop == "us":
            await self._shopify(key, dev, ip, click_id, code, fate, now)
        elif shop == "eu":
            await self._woo(key, dev, ip, click_id, code, fate, now)
        else:
            await self._generic(key, dev, ip, click_id, code, fate, now)

    async def _send(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        r = await self.c.post(url, content=body, headers=headers)
        assert r.status_code == 200, r.text
        if self.rng.random() < 0.05:  # a replay changes nothing
            await self.c.post(url, content=body, headers=headers)

    async def _shopify(self, key, dev, ip, click_id, code, fate, now) -> None:  # type: ignore[no-untyped-def]
        data = json.loads((FIXTURES / "shopify-order-1001.json").read_bytes())
        total = self.rng.randrange(1500, 30000)
        data.update(
            id=int(key[1:]),
            name=f"#{key}",
            created_at=now.isoformat(),
            updated_at=now.isoformat(),
            total_price=f"{total / 100:.2f}",
            current_total_price=f"{total / 100:.2f}",
            current_total_price_set=None,
            total_price_set=None,
            refunds=[],
            cancelled_at=None,
            financial_status="paid",
            browser_ip=ip,
            client_details={"user_agent": dev.ua, "accept_language": dev.lang, "browser_ip": ip},
            discount_codes=[{"code": code, "amount": "1.00", "type": "fixed_amount"}]
            if code
            else [],
            discount_applications=[],
            landing_site=f"/products/x?cl_cid={click_id}" if click_id else "/products/x",
            note_attributes=[],
        )
        versions = [("orders/create", data)]
        if fate == "cancelled":
            later = {**data, "cancelled_at": now.isoformat(), "updated_at": _later(now)}
            versions.append(("orders/cancelled", later))
        elif fate == "refunded":
            later = {
                **data,
                "financial_status": "refunded",
                "current_total_price": "0.00",
                "updated_at": _later(now),
            }
            versions.append(("orders/updated", later))
        if len(versions) > 1 and self.rng.random() < 0.5:
            versions.reverse()  # out of order: the edit arrives before the creation
        for topic, payload in versions:
            body = json.dumps(payload).encode()
            await self._send(
                "/postbacks/shopify/us",
                body,
                {
                    "content-type": "application/json",
                    "x-shopify-topic": topic,
                    "x-shopify-hmac-sha256": _b64hmac(SHOPIFY_SECRET, body),
                    "x-shopify-shop-domain": "sim.myshopify.com",
                    "x-shopify-webhook-id": uuid.uuid4().hex,
                },
            )

    async def _woo(self, key, dev, ip, click_id, code, fate, now) -> None:  # type: ignore[no-untyped-def]
        data = json.loads((FIXTURES / "woocommerce-order-727.json").read_bytes())
        total = self.rng.randrange(1500, 30000)
        stamp = now.isoformat().replace("+00:00", "")
        data.update(
            id=int(key[1:]),
            number=key,
            currency="EUR",
            total=f"{total / 100:.2f}",
            date_created_gmt=stamp,
            date_modified_gmt=stamp,
            status="processing",
            customer_ip_address=ip,
            customer_user_agent=dev.ua,  # WooCommerce sends no accept-language
            coupon_lines=[{"id": 1, "code": code.lower(), "discount": "1.00"}] if code else [],
            meta_data=[{"id": 1, "key": "_cl_cid", "value": click_id}] if click_id else [],
            refunds=[],
        )
        versions = [data]
        if fate == "cancelled":
            versions.append({**data, "status": "cancelled", "date_modified_gmt": _later(now)[:19]})
        elif fate == "refunded":
            versions.append(
                {
                    **data,
                    "status": "refunded",
                    "date_modified_gmt": _later(now)[:19],
                    "refunds": [{"id": 9, "reason": "", "total": f"-{total / 100:.2f}"}],
                }
            )
        if len(versions) > 1 and self.rng.random() < 0.5:
            versions.reverse()
        for payload in versions:
            body = json.dumps(payload).encode()
            await self._send(
                "/postbacks/woocommerce/eu",
                body,
                {
                    "content-type": "application/json",
                    "x-wc-webhook-topic": "order.updated",
                    "x-wc-webhook-signature": _b64hmac(self.secrets["eu"], body),
                    "x-wc-webhook-delivery-id": uuid.uuid4().hex,
                },
            )

    async def _generic(self, key, dev, ip, click_id, code, fate, now) -> None:  # type: ignore[no-untyped-def]
        total = self.rng.randrange(500, 40000)
        order: dict[str, Any] = {
            "order_id": key[1:],
            "created_at": now.isoformat(),
            "currency": "JPY",
            "total_minor": total,
            "status": "paid",
            "ip": ip,
            "user_agent": dev.ua,
            "accept_language": dev.lang,
            "discount_codes": [code] if code else [],
        }
        if click_id:
            order["click_id"] = click_id
        versions = [order]
        if fate == "cancelled":
            versions.append({**order, "status": "cancelled", "updated_at": _later(now)})
        elif fate == "refunded":
            versions.append(
                {
                    **order,
                    "status": "refunded",
                    "updated_at": _later(now),
                    "refunds": [{"id": "r1", "amount_minor": total}],
                }
            )
        if len(versions) > 1 and self.rng.random() < 0.5:
            versions.reverse()
        for payload in versions:
            body = json.dumps(payload).encode()
            msg = f"msg_{uuid.uuid4().hex}"
            sig = Webhook(self.secrets["jp"]).sign(msg, datetime.now(UTC), body.decode())
            await self._send(
                "/postbacks/generic/jp",
                body,
                {
                    "content-type": "application/json",
                    "webhook-id": msg,
                    "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                    "webhook-signature": sig,
                },
            )


def _later(now: datetime) -> str:
    return (now + timedelta(seconds=1)).isoformat()


async def simulate(
    settings: Settings, *, shoppers: int = 3000, creators: int = 12, seed: int = 1
) -> dict[str, Any]:
    """Run the world once against a fresh store; return the figures."""
    rng = random.Random(seed)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(PROXY, 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            sim = Sim(client, app, rng)
            handles = await sim.setup(creators)
            state = app.state.tracker
            people = _world(rng, shoppers)
            truth: dict[str, str | None] = {}
            baseline: dict[str, str | None] = {}
            held: list[dict[str, Any]] = []
            n = 0
            for person in people:
                clicked = handles[min(int(rng.paretovariate(1.2)) - 1, creators - 1)]
                did_click = rng.random() < 0.6
                click_id = None
                if did_click:
                    ip = person.phone.address(rng)
                    click_id = await sim.click(clicked, person.phone, ip)
                buys = rng.random() < (0.35 if did_click else 0.08)
                if not buys:
                    continue
                n += 1
                key = f"{100000 + n}"
                cross = did_click and person.desktop is not None and rng.random() < 0.3
                dev = person.desktop if cross and person.desktop else person.phone
                ip = dev.address(rng)
                code = None
                if did_click and rng.random() < 0.3:
                    code = f"SIM{handles.index(clicked)}"
                elif not did_click and rng.random() < 0.1:  # a leaked code
                    code = f"SIM{rng.randrange(creators)}"
                carried = click_id if did_click and not cross and rng.random() < 0.5 else None
                fate = rng.choices(["paid", "refunded", "cancelled"], [88, 8, 4])[0]
                if did_click and rng.random() < 0.05:  # its click commits after the order
                    await state.writer.flush()
                    held += await state.store.db.fetch_all(
                        "SELECT * FROM clicks WHERE id = ?", (click_id,)
                    )
                    await state.store.db.execute("DELETE FROM clicks WHERE id = ?", (click_id,))
                await state.writer.flush()
                await sim.order(f"o{key}", dev, ip, carried, code, fate)
                truth[key] = clicked if did_click else None
                baseline[key] = f"creator{code[3:]}" if code else None
            await state.writer.flush()
            for row in held:  # the late batch lands
                cols = list(row)
                await state.store.db.execute(
                    f"INSERT INTO clicks ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' for _ in cols)})",
                    tuple(row.values()),
                )
            rematched = (await client.post("/api/v1/orders/rematch", headers=sim.auth)).json()[
                "rematched"
            ]
            rows = await state.store.db.fetch_all(
                "SELECT o.external_id, o.counted, o.method, c.handle FROM orders o "
                "LEFT JOIN creators c ON c.id = o.creator_id"
            )
            overview = (await client.get("/api/v1/reports/overview", headers=sim.auth)).json()[
                "fingerprint_precision"
            ]
    return _score(rows, truth, baseline, rematched, overview, shoppers)


def _score(
    rows: list[dict[str, Any]],
    truth: dict[str, str | None],
    baseline: dict[str, str | None],
    rematched: int,
    overview: dict[str, Any],
    shoppers: int,
) -> dict[str, Any]:
    got = {r["external_id"]: r for r in rows}
    counted = [k for k in truth if got.get(k) and got[k]["counted"]]

    def metrics(pred: dict[str, str | None]) -> dict[str, float]:
        right = sum(1 for k in counted if pred[k] == truth[k])
        credited = [k for k in counted if pred[k] is not None]
        true = [k for k in counted if truth[k] is not None]
        return {
            "accuracy_pct": round(right / len(counted) * 100, 1),
            "precision_pct": round(
                sum(1 for k in credited if pred[k] == truth[k]) / max(1, len(credited)) * 100, 1
            ),
            "recall_pct": round(
                sum(1 for k in true if pred[k] == truth[k]) / max(1, len(true)) * 100, 1
            ),
        }

    product = {k: got[k]["handle"] for k in counted}
    by_fp = [k for k in counted if got[k]["method"] == "fingerprint"]
    return {
        "shoppers": shoppers,
        "orders": len(truth),
        "counted_orders": len(counted),
        "rematched": rematched,
        "product": metrics(product),
        "code_only_baseline": metrics(baseline),
        "fingerprint_orders": len(by_fp),
        "fingerprint_true_precision_pct": round(
            sum(1 for k in by_fp if product[k] == truth[k]) / max(1, len(by_fp)) * 100, 1
        ),
        "fingerprint_precision_estimate_pct": overview["precision_pct"],
    }


def settings_for(data_dir: Path, database_url: str | None = None, **env: str) -> Settings:
    return Settings.from_env(
        {
            "TRACKER_DATA_DIR": str(data_dir),
            "TRACKER_SECRET_KEY": "s" * 40,
            "TRACKER_TRUSTED_PROXIES": f"{PROXY}/32",
            "TRACKER_REMATCH_INTERVAL_SECONDS": "0",
            "TRACKER_FLUSH_INTERVAL_MS": "10",
            "TRACKER_FX_RATES": "EUR=1.08,JPY=0.0067",
            **({"TRACKER_DATABASE_URL": database_url} if database_url else {}),
            **env,
        }
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shoppers", type=int, default=3000)
    p.add_argument("--creators", type=int, default=12)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    p.add_argument("--min-confidence", default="0.3")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(
            Path(tmp),
            args.database_url,
            TRACKER_FINGERPRINT_MIN_CONFIDENCE=args.min_confidence,
        )
        figures = asyncio.run(
            simulate(settings, shoppers=args.shoppers, creators=args.creators, seed=args.seed)
        )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
