"""The benchmark harness must not rot (issues 8, 13, 22): its helpers work and a ``--quick``
run of ``bench/run.py --servers`` completes and reconciles every 302 with a click row, on
both HTTP servers. No timing is asserted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.dataset import Dataset, build
from bench.profile_summary import summarise
from tests.conftest import ROOT
from tracker.settings import Settings
from tracker.store import open_store

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_dataset_generates_and_loads(tmp_path: Path, database_url: str) -> None:
    data = Dataset.generate(creators=7, campaigns=2, links=300, clicks=120, seed=3)
    assert len({link["slug"] for link in data.links}) == 300
    assert Dataset.generate(creators=7, campaigns=2, links=300, seed=3).slugs == data.slugs
    await build(tmp_path, data, TRACKER_SECRET_KEY="k" * 40)
    store = await open_store(
        Settings.from_env({"TRACKER_DATA_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "k" * 40})
    )
    try:
        assert len(await store.list_creators(limit=100)) == 7
        assert await store.count_clicks() == 120
        link = await store.link_by_slug(data.slugs[5])
        assert link is not None and link["creator_id"] == data.creators[5]["id"]
    finally:
        await store.close()


def test_profile_summary_reads_py_spy_raw_output() -> None:
    raw = (
        "thread (1): MainThread;run (a.py:3);hot (b.py:9) 30\n"
        "thread (1): MainThread;run (a.py:3);cold (b.py:20) 10\n"
        "thread (2): Thread-1;work (c.py:1) 60\n"
    )
    text = summarise(raw)
    assert "100 samples" in text
    assert "60.0%  Thread-1" in text and "30.0%  [MainThread] hot (b.py)" in text
    assert "40.0%  [MainThread] run (a.py)" in text


@pytest.mark.slow
def test_quick_bench_run_reconciles_clicks(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip(
            "wrk is not installed (Debian: apt-get install wrk); bench/run.py "
            "installs it itself when run as root"
        )
    out = tmp_path / "figures.json"
    # One run for both: the scenarios, abuse, postbacks and report, and (issue 22) the bare
    # 302 and the redirect on both HTTP servers, each 302 reconciled with a click row.
    command = [sys.executable, "bench/run.py", "--quick", "--links", "2000", "--servers"]
    proc = subprocess.run(
        [*command, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    clicks = figures["redirect"]["clicks"]
    assert clicks["match"] and clicks["wrk_302"] > 0
    assert clicks["wrk_302"] <= clicks["db"] <= clicks["wrk_sent"]
    assert {r["target"] for r in figures["redirect"]["runs"]} == {"bare", "tracker"}
    assert set(figures["redirect"]["scenarios"]) == {"new-visitors", "8-visitors"}
    assert clicks["undescribed"] == 0  # every unseen user agent was described in the writer
    new = [r for r in figures["redirect"]["runs"] if r["scenario"] == "new-visitors"]
    assert any(r["enrich_us"] > 0 for r in new if r["target"] == "tracker")
    abuse = figures["redirect"]["abuse"]["summary"]
    assert abuse["tracker"]["quiet_p99_ms"] > 0 and abuse["tracker"]["abused_p99_ms"] > 0
    assert "requests/s" in proc.stdout and "server CPU" in proc.stdout
    postbacks = figures["postbacks"]  # issue 3's endpoint is on this branch
    assert postbacks["orders_stored"] == postbacks["orders_sent"] == postbacks["answered_200"]
    report = figures["report"]["creator"]  # issue 4's reports are on this branch
    assert report["rows"] == 50 and report["orders"] == 100
    servers = figures["servers"]
    targets = {r["target"] for r in servers["runs"]}
    assert {"bare-uvicorn", "bare-granian", "tracker-uvicorn", "tracker-granian"} <= targets
    # both kinds of traffic on both servers (issue 22)
    assert {(r["scenario"], r["target"]) for r in servers["runs"]} >= {
        (sc, t) for sc in ("new-visitors", "8-visitors") for t in targets
    }
    for kind in ("uvicorn", "granian"):
        clicks = servers["clicks"][kind]
        assert clicks["match"] and clicks["wrk_302"] > 0, (kind, clicks)
    assert all(r["errors"] == 0 for r in servers["runs"]), servers["runs"]
    assert "bare-granian" in proc.stdout and "ratio" in proc.stdout


def test_write_bench_measures_schema_against_its_floor(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import writes

    assert (
        writes.main(["--rows", "3000", "--batch", "200", "--links", "300", "--creators", "10"]) == 0
    )
    out = capsys.readouterr().out
    floor, schema = (ln for ln in out.splitlines() if ln.strip().startswith(("floor", "schema")))
    assert "1.00x" in floor and "clicks_at" not in floor
    assert "clicks_at" in schema and "clicks_fingerprint_human" in schema


def test_direct_bench_splits_the_click_path(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import direct

    assert direct.main(["--requests", "300", "--reps", "1", "--links", "200"]) == 0
    out = capsys.readouterr().out
    assert "| new |" in out and "| repeat |" in out and "enrich (writer)" in out


def test_history_bench_generates_and_times_every_page(tmp_path: Path) -> None:
    """bench/history.py (issue 19) must not rot: a tiny portfolio loads (clicks with every
    stored column, roll-ups, orders) and every report and page is timed."""
    size = ["--creators", "10", "--clicks", "5000", "--orders", "100", "--days", "5"]
    proc = subprocess.run(
        [sys.executable, "bench/history.py", *size, "--runs", "1", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "page /admin/portfolio/advice" in proc.stdout and "targets met" in proc.stdout
    assert "report country" in proc.stdout and "report variant" in proc.stdout
    assert "report breakdown referrer" in proc.stdout and "page /admin/audience" in proc.stdout
    # the closed days are sealed as the reach job would (yesterday from 01:00 UTC)
    assert re.search(r"reach: [45] days sealed", proc.stderr), proc.stderr[-2000:]
