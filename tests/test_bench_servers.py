"""``bench/run.py --servers`` (issue 22) must not rot: a ``--quick`` run measures the bare
302 and the redirect on both HTTP servers and reconciles every 302 with a click row on
each. No timing is asserted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_quick_servers_bench_reconciles_clicks(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--quick",
            "--links",
            "2000",
            "--servers",
            "--skip-postbacks",
            "--skip-report",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    servers = json.loads(out.read_text())["servers"]
    targets = {r["target"] for r in servers["runs"]}
    assert {"bare-uvicorn", "bare-granian", "tracker-uvicorn", "tracker-granian"} <= targets
    for kind in ("uvicorn", "granian"):
        clicks = servers["clicks"][kind]
        assert clicks["match"] and clicks["wrk_302"] > 0, (kind, clicks)
    assert all(r["errors"] == 0 for r in servers["runs"]), servers["runs"]
    assert "bare-granian" in proc.stdout and "ratio" in proc.stdout
