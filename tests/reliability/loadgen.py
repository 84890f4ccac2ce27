"""A small load generator on raw sockets: HTTP/1.1 keep-alive GETs, every 302 recorded.

Raw asyncio streams rather than an HTTP client library so the generator costs little CPU
next to the server on a shared 2-core machine, and so a killed server shows up as a plain
connection error. Bounded in requests and seconds; loopback only.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)


@dataclass
class Flood:
    """What the shoppers saw: every acknowledged click (302) with its click id and time."""

    acks: dict[str, float] = field(default_factory=dict)  # click id -> monotonic ack time
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    sent: int = 0


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, agent: str, param: str
) -> tuple[int, str | None]:
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\n"
        "Accept-Language: en-US\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    length = int(headers.get("content-length", "0"))
    if length:
        await reader.readexactly(length)
    cid = None
    if status == 302:
        cid = parse_qs(urlsplit(headers["location"]).query)[param][0]
    return status, cid


async def flood(
    port: int,
    paths: list[str],
    *,
    conns: int = 16,
    max_requests: int = 50_000,
    seconds: float = 10.0,
    stop: asyncio.Event | None = None,
    param: str = "cl_cid",
    out: Flood | None = None,
) -> Flood:
    """GET random ``paths`` over ``conns`` keep-alive connections until a bound or ``stop``."""
    result = out or Flood()
    stop = stop or asyncio.Event()
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        rnd = random.Random(n)
        failures = 0
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                result.errors += 1
                failures += 1
                if failures > 50:
                    return
                await asyncio.sleep(0.02)
                continue
            try:
                while (
                    not stop.is_set() and time.monotonic() < deadline and result.sent < max_requests
                ):
                    result.sent += 1
                    status, cid = await _one(
                        reader, writer, rnd.choice(paths), rnd.choice(AGENTS), param
                    )
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if cid is not None:
                        result.acks[cid] = time.monotonic()
                    failures = 0
                if result.sent >= max_requests:
                    return
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                failures += 1
                if failures > 50:
                    return
            finally:
                writer.close()

    await asyncio.gather(*(worker(i) for i in range(conns)))
    return result
