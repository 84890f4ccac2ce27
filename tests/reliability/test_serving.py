"""What the HTTP server owns, on each server ``tracker serve`` can run (issue 22):
trusted-proxy client addresses, the redacted access log, the ``/healthz`` counters,
several processes on one port (``SO_REUSEPORT``), and a failed start-up that exits."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, Server, free_port, server_env
from tests.reliability.loadgen import Flood, flood

pytestmark = pytest.mark.slow


def _get(port: int, path: str, source: str = "127.0.0.1", headers: str = "") -> bytes:
    with socket.socket() as sock:
        sock.bind((source, 0))
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 t\r\n{headers}"
            "Connection: close\r\n\r\n".encode()
        )
        out = b""
        while chunk := sock.recv(4096):
            out += chunk
    return out


def test_client_address_access_log_and_healthz(tmp_path: Path, server_kind: str) -> None:
    db = tmp_path / "tracker.db"
    env = server_env(
        tmp_path,
        f"sqlite:///{db}",
        TRACKER_SERVER=server_kind,
        TRACKER_TRUSTED_PROXIES="127.0.0.1/32",
        TRACKER_STORE_RAW_IP="true",
        TRACKER_LOG_LEVEL="info",
    )
    srv = Server(env, free_port(), tmp_path / "server.log", args=("--access-log",)).start()
    try:
        srv.cli("link", "create", "--slug", "px", "--destination", "https://shop.example.com/")
        # From the trusted proxy: the address it forwards is the client's.
        xff = "X-Forwarded-For: 198.51.100.7\r\n"
        assert _get(srv.port, "/px?n=1", headers=xff).startswith(b"HTTP/1.1 302")
        # From anyone else: the forwarding header is ignored; the peer is the client.
        assert _get(srv.port, "/px?n=2", "127.0.0.2", xff).startswith(b"HTTP/1.1 302")
        # Secrets in URLs, for the access log.
        _get(srv.port, "/c/creator-secret-token")
        _get(srv.port, "/postbacks/pixel/demo?token=pixel-secret&order_id=1&email=a%40b.example")
        health = httpx.get(srv.url + "/healthz").json()
        for _ in range(50):
            if health["click_writer"]["written"] >= 2:
                break
            time.sleep(0.05)
            health = httpx.get(srv.url + "/healthz").json()
    finally:
        srv.stop()
    assert health["status"] == "ok" and health["click_writer"]["written"] == 2
    assert health["click_writer"]["dropped"] == 0
    with sqlite3.connect(db) as conn:
        ips = sorted(r[0] for r in conn.execute("SELECT ip FROM clicks"))
    assert ips == ["127.0.0.2", "198.51.100.7"]
    access = [line for line in srv.log_path.read_text().splitlines() if "tracker.access" in line]
    assert any('"GET /c/*** HTTP/1.1" 404' in line for line in access), access
    assert any("token=***" in line and "email=***" in line for line in access), access
    text = "\n".join(access)
    for secret in ("creator-secret-token", "pixel-secret", "a%40b.example", "127.0.0", "198.51"):
        assert secret not in text, (secret, access)


def test_two_processes_share_one_port(tmp_path: Path, server_kind: str) -> None:
    """Two ``tracker serve`` on one port (SO_REUSEPORT): the kernel spreads connections;
    stopping one leaves the other serving every request."""
    port = free_port()
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}", TRACKER_SERVER=server_kind)
    env["TRACKER_LOG_LEVEL"] = "info"
    a = Server(env, port, tmp_path / "a.log", args=("--access-log",)).start()
    b = Server(env, port, tmp_path / "b.log", args=("--access-log",)).start()
    try:
        # b.start() returned on a /healthz that a may have answered: wait until b answers.
        deadline = time.monotonic() + 20
        resets = 0
        while "GET /healthz" not in b.log_path.read_text() and time.monotonic() < deadline:
            try:
                _get(port, "/healthz")
            except ConnectionResetError:
                resets += 1
        assert resets == 0  # granian's probe socket reset one per start: see tracker/serve.py
        statuses = [_get(port, f"/nosuch?i={i}")[:12] for i in range(200)]
        assert set(statuses) == {b"HTTP/1.1 404"}
        for _ in range(50):  # the access line is written just after the response is sent
            served = [
                sum("/nosuch?i=" in line for line in p.read_text().splitlines())
                for p in (a.log_path, b.log_path)
            ]
            if sum(served) == 200:
                break
            time.sleep(0.05)
        assert sum(served) == 200 and min(served) >= 20, served
        a.stop()
        after = [_get(port, f"/nosuch?j={i}")[:12] for i in range(50)]
        assert set(after) == {b"HTTP/1.1 404"}, after
    finally:
        for srv in (a, b):
            if srv.proc and srv.proc.poll() is None:
                srv.stop()


def test_failed_start_exits_non_zero(tmp_path: Path, server_kind: str) -> None:
    """A store that cannot be opened: the process says why and exits non-zero, promptly
    (a supervisor restarts it), on both servers."""
    env = server_env(tmp_path, "postgresql://nobody@127.0.0.1:1/none", TRACKER_SERVER=server_kind)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0, out.stdout + out.stderr
    assert time.monotonic() - t0 < 30


@pytest.mark.anyio
async def test_sigterm_then_sigkill_while_a_slow_client_holds_on(
    tmp_path: Path, server_kind: str, figures: Callable[[str, Any], None]
) -> None:
    """granian's graceful stop waits for open connections (a half-sent head up to
    TRACKER_HEADER_TIMEOUT, a trickled body up to TRACKER_BODY_TIMEOUT) before the
    lifespan shutdown; meanwhile the click writer keeps flushing. So a supervisor that
    loses patience and sends SIGKILL during that wait still loses no acknowledged click.
    uvicorn closes such connections at once and exits by itself."""
    db = tmp_path / "tracker.db"
    env = server_env(
        tmp_path,
        f"sqlite:///{db}",
        TRACKER_SERVER=server_kind,
        TRACKER_HEADER_TIMEOUT="30",
        TRACKER_FLUSH_INTERVAL_MS="50",
    )
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    srv.cli("link", "create", "--slug", "flood-a", "--destination", "https://shop.example.com/a")
    slow = socket.create_connection(("127.0.0.1", srv.port))
    slow.sendall(b"GET /flood-a HTTP/1.1\r\nHost: x\r\n")  # and nothing more
    stop, result = asyncio.Event(), Flood()
    task = asyncio.create_task(
        flood(srv.port, ["/flood-a"], conns=8, seconds=15, stop=stop, out=result)
    )
    try:
        deadline = time.monotonic() + 10
        while len(result.acks) < 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        stop.set()
        await task
        await asyncio.sleep(0.5)
        held = srv.proc.poll() is None
        if held:
            srv.proc.send_signal(signal.SIGKILL)
        srv.stop()
    finally:
        slow.close()
    with sqlite3.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM clicks")}
    lost = [cid for cid in result.acks if cid not in stored]
    figures(
        f"{server_kind}: acknowledged / lost, SIGKILL 1 s after SIGTERM "
        f"({'still draining' if held else 'already exited'})",
        f"{len(result.acks)} / {len(lost)}",
    )
    assert len(result.acks) >= 300 and lost == []
    if server_kind == "uvicorn":
        assert not held  # uvicorn closed the half-sent connection and exited on its own
