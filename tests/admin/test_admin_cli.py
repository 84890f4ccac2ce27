"""``tracker admin ...``: users are made from the shell, passwords never on the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_settings, run_cli, running, server_env


def tracker(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


@pytest.mark.anyio
async def test_admin_user_lifecycle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = server_env(tmp_path, url)
    pw = "a long enough password\n"
    out = tracker(
        env,
        "admin",
        "create",
        "--email",
        "Ann@Brand.example",
        "--role",
        "admin",
        "--password-stdin",
        stdin=pw,
    )
    assert out.returncode == 0, out.stderr
    assert "created admin Ann@Brand.example" in out.stdout
    out = tracker(
        env, "admin", "create", "--email", "ann@brand.example", "--password-stdin", stdin=pw
    )
    assert out.returncode == 1 and "already exists" in out.stderr
    out = tracker(
        env, "admin", "create", "--email", "bob@brand.example", "--password-stdin", stdin="short\n"
    )
    assert out.returncode == 1 and "at least 12" in out.stderr
    out = tracker(
        env,
        "admin",
        "create",
        "--email",
        "x@brand.example",
        "--role",
        "owner",
        "--password-stdin",
        stdin=pw,
    )
    assert out.returncode == 2  # argparse: invalid choice

    settings = make_settings(tmp_path, url)
    async with running(settings) as live:
        row = await live.store.admin_credentials("ANN@brand.example")
        assert row and row["role"] == "admin" and row["password_hash"].startswith("scrypt$")
        assert "a long enough password" not in row["password_hash"]
        await live.store.create_admin_session("h" * 64, row["id"], "2999-01-01T00:00:00.000000Z")
        assert await live.store.admin_session_user("h" * 64)

    out = tracker(
        env,
        "admin",
        "set-password",
        "--email",
        "ann@brand.example",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert out.returncode == 0, out.stderr
    out = tracker(env, "admin", "disable", "--email", "ann@brand.example")
    assert out.returncode == 0
    out = tracker(env, "admin", "list")
    assert "ann@brand.example".lower() in out.stdout.lower() and "disabled" in out.stdout
    async with running(settings) as live:
        assert await live.store.admin_session_user("h" * 64) is None  # sessions ended
        assert await live.store.admin_credentials("ann@brand.example") is None  # disabled
