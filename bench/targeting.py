"""What targeting rules, A/B variants, code-applying links and the country lookup cost per
click (issue 17), measured in process on the redirect's own functions:

    .venv/bin/python -m bench.targeting            # figures in microseconds per click

and ``add_targeting(links)``, which ``bench/run.py --targeting`` uses to give every link of
its data set rules, variants and a code-applying URL, so the redirect's throughput is
measured with them on.

Figures are per call on this machine, under whatever load it has: compare them with the
plain ``CompiledLink.location`` measured in the same run (the ratio is the figure).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tracker.clicks.country import CountryLookup  # noqa: E402
from tracker.links.rules import compile_link  # noqa: E402
from tracker.links.targeting import (  # noqa: E402
    Visitor,
    first_language,
    parse_query,
    quick_agent,
)

SHOP = "https://shop.example.com"
TARGETING = {
    "rules": [
        {
            "name": "ios-app",
            "when": {"os": ["ios"], "device": ["mobile"]},
            "destination": f"{SHOP}/app",
        },
        {"name": "dach", "when": {"country": ["DE", "AT", "CH"]}, "destination": f"{SHOP}/de/p"},
        {"name": "french", "when": {"language": ["fr"]}, "destination": f"{SHOP}/fr/p"},
        {
            "name": "tiktok",
            "when": {"query": {"name": "src", "value": "tiktok"}},
            "destination": f"{SHOP}/p?landing=tt",
        },
    ],
    "variants": [
        {"name": "A", "destination": f"{SHOP}/p", "weight": 50},
        {"name": "B", "destination": f"{SHOP}/p-b", "weight": 50},
    ],
}
APPLY = {"kind": "shopify", "code": "BENCH10"}
UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Instagram "
    "312.1.0.34.111 Android (34/14; 450dpi; 1080x2340; samsung; SM-S918B; dm3q; qcom; en_US)"
)


def add_targeting(links: list[dict[str, Any]]) -> None:
    """Give every link of a bench data set the rules, variants and code application above."""
    targeting, apply = json.dumps(TARGETING), json.dumps(APPLY)
    for link in links:
        link["targeting"] = targeting
        link["apply_code"] = apply


def per_call(fn: Callable[[], object], n: int = 200_000) -> float:
    """Microseconds per call, best of 3."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main() -> int:
    row = {
        "id": "ln_bench",
        "slug": "bench",
        "creator_id": "cr_x",
        "destination": f"{SHOP}/p?variant=3",
        "utm_source": "instagram",
        "utm_medium": "influencer",
        "utm_content": "maya",
    }
    plain = compile_link(row, "cl_cid", ())
    routed = compile_link(
        {**row, "targeting": json.dumps(TARGETING), "apply_code": json.dumps(APPLY)},
        "cl_cid",
        (),
    )
    assert routed.routing is not None and routed.apply is not None
    routing = routed.routing
    fp = "9f2c4be1d0a7e3355b0c1f6e2a9d8c77"
    lang = "de-DE,de;q=0.9,en;q=0.8"
    query = b"utm_term=spring"
    countries = CountryLookup(("CF-IPCountry",), "", True)

    def full() -> str:  # what the redirect adds for a link with targeting and a code
        device, os_ = quick_agent(UA)
        v = Visitor(device, os_, "US", first_language(lang), parse_query(query))
        chosen = routing.choose(v, fp)
        target = chosen[1] if chosen else routed
        assert routed.apply is not None
        return routed.apply.wrap(target.location("cl_cid", "0f2MQF---geHTuj1", query))

    figures = {
        "location, plain link (baseline)": per_call(
            lambda: plain.location("cl_cid", "0f2MQF---geHTuj1", query)
        ),
        "quick_agent (device, OS)": per_call(lambda: quick_agent(UA)),
        "rules + variant choice (no rule matches)": per_call(
            lambda: routing.choose(Visitor("mobile", "android", "US", "en-us", {}), fp)
        ),
        "country: CDN header": per_call(
            lambda: countries.country({b"cf-ipcountry": b"DE"}, True, "81.2.69.160")
        ),
        "country: built-in data (iptocc)": per_call(
            lambda: countries.country({}, False, "81.2.69.160")
        ),
        "country: built-in, IPv6": per_call(lambda: countries.country({}, False, "2a00:1450::1")),
        "shopify code URL (wrap)": per_call(
            lambda: routed.apply.wrap(f"{SHOP}/p?utm_source=x&cl_cid=0f2MQF---geHTuj1")  # type: ignore[union-attr]
        ),
        "all of it: agent, rules, variant, location, code URL": per_call(full),
    }
    load = os.getloadavg()[0]
    print(f"per click, best of 3 x 200,000 calls (load average {load:.1f}):")
    for name, us in figures.items():
        print(f"  {name:<56} {us:6.2f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
