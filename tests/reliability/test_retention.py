"""Retention: click fingerprints and raw IPs are erased after their period, nothing else."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Running, make_settings, server_env
from tracker.core import clock
from tracker.core.errors import SettingsError
from tracker.retention import RetentionJob, purge

DAY = 86400.0


def _click(cid: str, at: float) -> tuple[object, ...]:
    return (
        cid,
        clock.iso(at),
        "s",
        None,
        None,
        "fp" + cid,
        "mobile",
        "iOS",
        "Safari",
        0,
        None,
        0,
        None,
        "203.0.113.7",
        "GET",
        "ab12",
        None,
    )


async def _seed(live: Running, now: float, old: int, new: int) -> None:
    rows = [_click(f"old{i:05d}", now - 40 * DAY - i) for i in range(old)]
    rows += [_click(f"new{i:05d}", now - 5 * DAY - i) for i in range(new)]
    await live.store.insert_clicks(rows)


async def _fingerprints(live: Running) -> dict[str, tuple[object, object]]:
    rows = await live.store.db.fetch_all("SELECT id, fingerprint, ip, ip_tag FROM clicks")
    for r in rows:  # the exact-address tag goes with the fingerprint
        assert (r["ip_tag"] is None) == (r["fingerprint"] is None)
    return {r["id"]: (r["fingerprint"], r["ip"]) for r in rows}


@pytest.mark.anyio
async def test_purge_erases_only_old_fingerprints(live: Running) -> None:
    now = clock.now()
    await _seed(live, now, old=60, new=20)
    assert live.state.settings.retention_fingerprint_days == 30
    done = await live.store.purge_click_fingerprints(clock.iso(now - 30 * DAY), batch=7)
    assert done == 60
    fps = await _fingerprints(live)
    assert len(fps) == 80  # clicks themselves are kept: counts never change
    assert all(v == (None, None) for k, v in fps.items() if k.startswith("old"))
    assert all(v[0] == "fp" + k and v[1] for k, v in fps.items() if k.startswith("new"))
    assert await purge(live.store, live.state.settings, now=now) == {
        "click fingerprints and IPs": 0,
        "raw postback bodies": 0,
        "delivered events and their delivery log": 0,
    }  # idempotent


@pytest.mark.anyio
async def test_periodic_job_runs_in_the_background(live: Running) -> None:
    await _seed(live, clock.now(), old=5, new=5)
    job = RetentionJob(live.store, live.state.settings, first_delay=0.05)
    job.start()
    for _ in range(100):
        if job.runs:
            break
        await asyncio.sleep(0.05)
    await job.close()
    assert job.runs == 1
    fps = await _fingerprints(live)
    assert sum(v == (None, None) for v in fps.values()) == 5


def test_cli_purge(tmp_path: Path, database_url: str) -> None:
    env = server_env(tmp_path, database_url, TRACKER_RETENTION_FINGERPRINT_DAYS="10")
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "purge"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "click fingerprints and IPs: 0 rows erased" in out.stdout


def test_retention_shorter_than_lookback_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="RETENTION"):
        make_settings(
            tmp_path,
            "sqlite:///x.db",
            TRACKER_RETENTION_FINGERPRINT_DAYS="3",
            TRACKER_LOOKBACK_FINGERPRINT_DAYS="7",
        )
    assert (
        make_settings(
            tmp_path, "sqlite:///x.db", TRACKER_RETENTION_FINGERPRINT_DAYS="0"
        ).retention_fingerprint_days
        == 0
    )


@pytest.mark.anyio
async def test_purge_erases_old_raw_postback_bodies(live: Running) -> None:
    now = clock.now()
    shop = await live.store.create_shop(
        {
            "slug": "eu",
            "name": "EU",
            "platform": "shopify",
            "secret": "s" * 32,
            "pixel_token": "p" * 24,
            "currency": "EUR",
        }
    )
    for i, age_days in enumerate([200, 120, 91, 89, 1]):
        await live.store.db.execute(
            "INSERT INTO deliveries (id, shop_id, delivery_key, source, topic, "
            "order_external_id, outcome, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"dl{i}",
                shop["id"],
                f"k{i}",
                "shopify",
                "orders/create",
                str(i),
                "applied",
                clock.iso(now - age_days * DAY),
                '{"email": "someone@example.com"}',
            ),
        )
    assert live.state.settings.retention_raw_body_days == 90
    done = await purge(live.store, live.state.settings, now=now)
    assert done["raw postback bodies"] == 3
    rows = await live.store.db.fetch_all("SELECT id, body, outcome FROM deliveries ORDER BY id")
    assert [(r["id"], r["body"] is None) for r in rows] == [
        ("dl0", True),
        ("dl1", True),
        ("dl2", True),
        ("dl3", False),
        ("dl4", False),
    ]
    assert {r["outcome"] for r in rows} == {"applied"}  # the record of delivery stays
