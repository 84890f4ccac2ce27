"""The click path without HTTP: CPU per request of the tracker's redirect, its user-agent
enrichment and its click write, for new and for repeat visitors, next to the bare
Starlette route - all called as ASGI apps in this process, so no wrk, no sockets and no
other process share the figure (it is process CPU time, little moved by a busy machine).

    .venv/bin/python bench/direct.py                  # 20,000 requests per kind, 3 reps
    .venv/bin/python bench/direct.py --requests 50000 --reps 5

What uvicorn and the kernel cost per request is the same for both apps (the HTTP bench,
``bench/run.py``, measures it); what this adds is where the tracker's own extra goes:
*redirect* (the loop's work per request: lookup, capture, queueing, the 302), *enrich*
(describing user agents the redirect had not seen, in the writer), *write* (the batched
SQLite insert, on the click thread).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bare_app import app as bare_app  # noqa: E402
from bench.dataset import Dataset, bench_settings, build  # noqa: E402
from bench.scenarios import IN_APP_AGENTS, TRACKER_ENV  # noqa: E402
from tracker.app import create_app  # noqa: E402

EIGHT = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone14,5; iOS 17_5; en_US; en; "
    "scale=3.00; 1170x2532; 611278389)",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.6422.113 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
]


def scopes(slugs: list[str], n: int, new: bool, offset: int) -> list[dict[str, Any]]:
    """ASGI scopes as uvicorn builds them; ``new``: a never-seen agent and address each."""
    import random
    import re

    rng = random.Random(offset)
    templates = [t for t in IN_APP_AGENTS.read_text().splitlines() if t.strip()]
    out = []
    for i in range(n):
        k = offset + i
        if new:
            ua = re.sub(
                r"\d{3,}", lambda m, k=k: str(int(m.group()) + k + 1), rng.choice(templates)
            )
            ip = f"{11 + k % 180}.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"
        else:
            ua, ip = EIGHT[i % len(EIGHT)], ""
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", ua.encode("latin-1", "replace")),
            (b"accept-language", b"en-US,en;q=0.9"),
            (b"accept", b"text/html,application/xhtml+xml"),
            (b"referer", b"https://l.instagram.com/"),
        ]
        if ip:
            headers.append((b"x-forwarded-for", ip.encode()))
        slug = rng.choice(slugs)
        out.append(
            {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": f"/{slug}",
                "raw_path": f"/{slug}".encode(),
                "query_string": b"",
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
            }
        )
    return out


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="creatorlink-direct-") as tmp:
        data = Dataset.generate(creators=args.creators, links=args.links, clicks=0)
        if getattr(args, "targeting", False):
            from bench.targeting import add_targeting

            add_targeting(data.links)  # rules, A/B variants, a code-applying URL each
        await build(Path(tmp), data)
        app = create_app(bench_settings(Path(tmp), **TRACKER_ENV))
        figures: dict[str, list[dict[str, float]]] = {"new": [], "repeat": []}
        async with app.router.lifespan_context(app):
            st = app.state.tracker
            n, offset = args.requests, 0
            for rep in range(args.reps):
                for kind in ("new", "repeat") if rep % 2 == 0 else ("repeat", "new"):
                    batch = scopes(data.slugs, n, kind == "new", offset)
                    offset += n
                    t0 = time.process_time()
                    for scope in batch:
                        await bare_app(scope, _receive, _send)
                    bare = time.process_time() - t0
                    await st.writer.flush()
                    d0 = st.capture.describer.cpu
                    t0 = time.process_time()
                    for scope in batch:
                        await app(scope, _receive, _send)
                    redirect = time.process_time() - t0
                    t0 = time.process_time()
                    await st.writer.flush()
                    after = time.process_time() - t0
                    enrich = st.capture.describer.cpu - d0
                    us = 1e6 / n
                    figures[kind].append(
                        {
                            "bare_us": bare * us,
                            "redirect_us": redirect * us,
                            "enrich_us": enrich * us,
                            "write_us": (after - enrich) * us,
                        }
                    )
        return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=20_000, help="per kind and rep")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument(
        "--targeting", action="store_true", help="every link with rules, variants, a code URL"
    )
    p.add_argument("--links", type=int, default=5_000)
    p.add_argument("--creators", type=int, default=50)
    args = p.parse_args(argv)
    figures = asyncio.run(run(args))
    print(f"process CPU per request, medians of {args.reps} interleaved reps of {args.requests:,}")
    print(
        "| visitor | bare route | redirect | enrich (writer) | write (click thread) | added per click |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for kind, runs in figures.items():
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        added = m["redirect_us"] + m["enrich_us"] + m["write_us"] - m["bare_us"]
        print(
            f"| {kind} | {m['bare_us']:.1f} us | {m['redirect_us']:.1f} us | "
            f"{m['enrich_us']:.1f} us | {m['write_us']:.1f} us | {added:.1f} us |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
