"""Secrets never reach the logs: API tokens, the server secret, database passwords."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET, Server, free_port, server_env

pytestmark = pytest.mark.slow


def test_secrets_not_logged(tmp_path: Path) -> None:
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}", TRACKER_LOG_LEVEL="debug")
    srv = Server(env, free_port(), tmp_path / "server.log").start()
    try:
        token = srv.cli("token", "create", "ci").strip()
        auth = {"Authorization": f"Bearer {token}"}
        assert (
            httpx.post(
                srv.url + "/api/v1/links",
                headers=auth,
                json={"destination": "https://shop.example.com/", "slug": "s1"},
            ).status_code
            == 201
        )
        assert (
            httpx.get(
                srv.url + "/api/v1/links", headers={"Authorization": f"Bearer {token}x"}
            ).status_code
            == 401
        )
        assert (
            httpx.post(srv.url + "/api/v1/links", headers=auth, content=b"{not json").status_code
            == 400
        )
        assert httpx.get(srv.url + "/s1", follow_redirects=False).status_code == 302
    finally:
        srv.stop()
    log = (tmp_path / "server.log").read_text()
    assert "rejected GET /api/v1/links: 401" in log  # the rejection is logged...
    assert token not in log and token[4:20] not in log  # ...without the token
    assert SECRET not in log


def test_database_password_not_printed(tmp_path: Path) -> None:
    """``tracker serve`` prints where its database is, minus any credentials."""
    url = "postgresql://tracker:hunter2-very-secret@127.0.0.1:1/nowhere"
    env = server_env(tmp_path, url)
    srv = Server(env, free_port(), tmp_path / "server.log")
    with pytest.raises(RuntimeError):
        srv.start()  # nothing listens on port 1: the server exits
    srv.log.close()
    out = (tmp_path / "server.log").read_text()
    assert "127.0.0.1:1/nowhere" in out
    assert "hunter2" not in out, out[-2000:]
