"""A/B destinations through a real server process (issue 17): 10,000 simulated visitors (each
its own address, as a CDN in front reports it) split within 2 points of the weights, the
same visitor always sent to the same variant, and the variant report counting exactly the
clicks each variant received."""

from __future__ import annotations

import socket
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Server, free_port, server_env

VISITORS = 10_000
UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
WEIGHTS = {"/p/serum": ("A", 70), "/p/serum-b": ("B", 20), "/p/serum-c": ("C", 10)}


def _address(i: int) -> str:
    return f"{5 + i // 65_536}.{i // 256 % 256}.{i % 256}.9"  # one /24 each: one fingerprint


def _locations(port: int, visitors: list[int], batch: int = 250) -> list[str]:
    """``GET /ab`` for each visitor, pipelined on one keep-alive connection (httpx's ~1 ms
    per request would make this test 20 s); returns each response's Location path."""
    out: list[str] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        buf = b""
        for start in range(0, len(visitors), batch):
            chunk = visitors[start : start + batch]
            sock.sendall(
                b"".join(
                    b"GET /ab HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\n"
                    b"X-Forwarded-For: %s\r\n\r\n" % (UA.encode(), _address(i).encode())
                    for i in chunk
                )
            )
            got = 0
            while got < len(chunk):
                head, sep, rest = buf.partition(b"\r\n\r\n")
                if not sep:
                    data = sock.recv(1 << 16)
                    assert data, "connection closed"
                    buf += data
                    continue
                buf = rest  # 302 with content-length 0: nothing after the head
                lines = head.decode("latin-1").split("\r\n")
                assert lines[0].startswith("HTTP/1.1 302"), lines[0]
                location = next(
                    v
                    for k, _, v in (x.partition(": ") for x in lines[1:])
                    if k.lower() == "location"
                )
                out.append(urlsplit(location).path)
                got += 1
    return out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ab_split_and_stickiness_over_10000_visitors(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url, TRACKER_TRUSTED_PROXIES="127.0.0.1/32")
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        token = srv.cli("token", "create", "t").strip()
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=srv.url, headers={"user-agent": UA}) as c:
            r = c.post(
                "/api/v1/links",
                headers=auth,
                json={
                    "destination": "https://shop.example.com/p/serum",
                    "slug": "ab",
                    "targeting": {
                        "variants": [
                            {"name": n, "destination": f"https://shop.example.com{p}", "weight": w}
                            for p, (n, w) in WEIGHTS.items()
                        ]
                    },
                },
            )
            assert r.status_code == 201, r.text
            first = dict(enumerate(_locations(srv.port, list(range(VISITORS)))))
            back = list(range(0, VISITORS, 25))  # 400 of them come back: the same variant
            assert _locations(srv.port, back) == [first[i] for i in back]
            counts = Counter(first.values())
            for path, (_, weight) in WEIGHTS.items():
                share = 100 * counts[path] / VISITORS
                assert abs(share - weight) < 2, (path, share, counts)
            returns = Counter(first[i] for i in back)
            want = {name: counts[path] + returns[path] for path, (name, _) in WEIGHTS.items()}
            deadline = time.monotonic() + 10  # the writer commits every 30 ms
            while True:
                report = c.get("/api/v1/reports/variant", headers=auth).json()
                by_variant = {r["key"]: r["clicks"] for r in report["rows"]}
                if by_variant == want or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert by_variant == want
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()
