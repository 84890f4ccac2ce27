"""Which project files one signed Shopify order runs through, from ``POST
/postbacks/shopify/{shop}`` to its stored touches: traced, not read off the imports.

    .venv/bin/python -m bench.order_path [SOURCE_DIR]

SOURCE_DIR (default: this checkout) may be an older tree (``git archive <commit> | tar -x
-C DIR``) to compare layouts; it must take ``POST /api/v1/shops`` and the same postback.
Prints the files in the order they are first entered (the first ones are middleware) and
the distinct caller -> callee edges between them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def trace(source: Path) -> tuple[list[str], set[tuple[str, str]], dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(source))
    os.environ.setdefault("TRACKER_SECRET_KEY", "bench-" + "k" * 42)
    import httpx

    from tests.postback_helpers import SHOPIFY_BODY, SHOPIFY_SECRET, shopify_headers
    from tracker.app import create_app
    from tracker.settings import Settings

    prefixes = (str(source / "tracker"), str(source / "admin"))
    seen: list[str] = []
    edges: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or not frame.f_code.co_filename.startswith(prefixes):
            return
        here = os.path.relpath(frame.f_code.co_filename, source)
        if here not in seen:
            seen.append(here)
        caller = frame.f_back
        while caller is not None and not caller.f_code.co_filename.startswith(prefixes):
            caller = caller.f_back
        there = os.path.relpath(caller.f_code.co_filename, source) if caller else here
        if there != here:
            edges.add((there, here))

    async def run() -> dict[str, Any]:
        tmp = tempfile.mkdtemp()
        os.environ["TRACKER_DATABASE_URL"] = f"sqlite:///{tmp}/tracker.db"
        os.environ["TRACKER_DATA_DIR"] = tmp
        app = create_app(Settings.from_env())
        async with app.router.lifespan_context(app):
            _, token = await app.state.tracker.store.create_token("bench")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                shop = {"slug": "demo", "platform": "shopify", "secret": SHOPIFY_SECRET}
                auth = {"authorization": f"Bearer {token}"}
                assert (await c.post("/api/v1/shops", headers=auth, json=shop)).status_code == 201
                sys.setprofile(profile)
                threading.setprofile(profile)
                try:
                    r = await c.post(
                        "/postbacks/shopify/demo",
                        content=SHOPIFY_BODY,
                        headers=shopify_headers(SHOPIFY_BODY),
                    )
                finally:
                    sys.setprofile(None)
                    threading.setprofile(None)  # type: ignore[arg-type]
                assert r.status_code == 200, r.text
                answer: dict[str, Any] = r.json()
                return answer

    return seen, edges, asyncio.run(run())


def main() -> None:
    source = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    seen, edges, answer = trace(source)
    print(f"answer: {answer['status']}")
    print(f"{len(seen)} project files entered:")
    for name in seen:
        print(f"  {name}")
    print(f"{len(edges)} caller -> callee edges:")
    for a, b in sorted(edges):
        print(f"  {a} -> {b}")


if __name__ == "__main__":
    main()
