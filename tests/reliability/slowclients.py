"""Slow clients on raw sockets: thousands of connections that send a request line and then
one header line at a time, never finishing the head (slowloris), while a normal client
times plain requests. Loopback only; every source address is in 127.0.0.0/8 (Linux
routes the whole block to lo), so the attack can come from one address or from many.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import resource
import socket
import sys
import time
from dataclasses import dataclass, field


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))


@dataclass
class Attack:
    opened: int = 0  # connections the kernel completed
    refused: int = 0  # answered 429 at once: the per-address cap
    closed_by_server: int = 0  # the server hung up on a slow head
    closed_at: list[float] = field(default_factory=list)  # seconds after opening
    still_open: int = 0
    connect_errors: int = 0


async def _slow_socket(port: int, source: str, every: float, until: float, out: Attack) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    opened_at = time.monotonic()  # before connecting: this loop is busy, later is skewed
    try:
        sock.bind((source, 0))
        await loop.sock_connect(sock, ("127.0.0.1", port))
    except OSError:
        out.connect_errors += 1
        sock.close()
        return
    out.opened += 1
    try:
        await loop.sock_sendall(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        n = 0
        while time.monotonic() < until:
            try:
                data = await asyncio.wait_for(loop.sock_recv(sock, 512), timeout=every)
            except TimeoutError:
                n += 1
                await loop.sock_sendall(sock, f"X-Slow-{n}: {'a' * 20}\r\n".encode())
                continue
            if data.startswith(b"HTTP/1.1 429"):
                out.refused += 1
            else:
                out.closed_by_server += 1
                out.closed_at.append(time.monotonic() - opened_at)
            return
        out.still_open += 1
    except (ConnectionResetError, BrokenPipeError):
        out.closed_by_server += 1
        out.closed_at.append(time.monotonic() - opened_at)
    finally:
        sock.close()


def probe(port: int, path: str = "/healthz") -> tuple[int, float]:
    """One normal request on a new connection, blocking: (status, milliseconds); status 0
    when the server did not answer within 10 s."""
    t0 = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
        status = int(head.split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        status = 0
    return status, (time.perf_counter() - t0) * 1000


async def attack(port: int, sources: dict[str, int], *, every: float, hold: float) -> Attack:
    """Open ``sources[address]`` slow sockets from each address and keep them trickling a
    header line every ``every`` seconds for ``hold`` seconds, or until the server hangs
    up. Prints ``opened N`` once every connect has finished, so a probing parent knows."""
    out = Attack()
    until = time.monotonic() + hold
    tasks = [
        asyncio.create_task(_slow_socket(port, source, every, until, out))
        for source, n in sources.items()
        for _ in range(n)
    ]
    total = sum(sources.values())
    while out.opened + out.connect_errors < total and time.monotonic() < until:
        await asyncio.sleep(0.02)
    print(f"opened {out.opened}", flush=True)
    await asyncio.gather(*tasks)
    return out


def main() -> None:
    """``python -m tests.reliability.slowclients PORT ADDRESSES PER_ADDRESS EVERY HOLD``:
    the attack in its own process (its event loop, busy with thousands of sockets, must
    not be the one timing the normal requests); the result as one JSON line at the end."""
    port, addresses, per, every, hold = sys.argv[1:6]
    raise_fd_limit(int(addresses) * int(per) + 256)
    sources = {f"127.0.{1 + i // 250}.{2 + i % 250}": int(per) for i in range(int(addresses))}
    out = asyncio.run(attack(int(port), sources, every=float(every), hold=float(hold)))
    print(json.dumps(dataclasses.asdict(out)), flush=True)


if __name__ == "__main__":
    main()
