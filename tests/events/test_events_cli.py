"""``tracker webhooks`` and ``tracker commissions`` from the shell, on a real SQLite file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_cli, server_env


def tracker(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    out = run_cli(env, *args)
    assert (out.returncode == 0) == ok, out.stderr
    return out


def test_webhooks_and_commissions_cli(tmp_path: Path) -> None:
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}")
    tracker(env, "creator", "create", "--handle", "maya")
    out = tracker(
        env, "webhooks", "add", "https://hooks.example.com/in", "--types", "order.updated"
    )
    ep = json.loads(out.stdout)
    assert ep["secret"].startswith("whsec_") and ep["event_types"] == ["order.updated"]
    assert "shown once" in out.stderr
    listed = tracker(env, "webhooks", "list").stdout
    assert ep["id"] in listed and ep["secret"] not in listed
    bad = tracker(env, "webhooks", "add", "http://10.1.2.3/in", ok=False)
    assert bad.stderr.strip() == "error: url: a non-public address is not allowed"
    assert json.loads(tracker(env, "webhooks", "disable", ep["id"]).stdout)["status"] == "disabled"
    rotated = json.loads(tracker(env, "webhooks", "rotate", ep["id"]).stdout)
    assert rotated["secret"] != ep["secret"]
    assert tracker(env, "webhooks", "replay", ep["id"]).stdout.strip() == "queued 0"
    rule = json.loads(
        tracker(env, "commissions", "rule", "--creator", "maya", "--rate-percent", "12.5").stdout
    )
    assert rule["rate_bp"] == 1250
    tier = json.loads(
        tracker(
            env, "commissions", "rule", "--tier", "micro", "--fixed", "2.50", "--currency", "EUR"
        ).stdout
    )
    assert (tier["scope"], tier["tier"], tier["fixed_minor"]) == ("tier", "micro", 250)
    bad_tier = tracker(
        env, "commissions", "rule", "--tier", "giga", "--rate-percent", "5", ok=False
    )
    assert "tier: one of nano, micro, mid, macro, mega" in bad_tier.stderr
    assert tracker(env, "commissions", "approve").stdout.strip() == "approved 0"
    assert (
        tracker(env, "commissions", "backfill").stdout.strip() == "0 orders entered in the ledger"
    )
    csv_text = tracker(env, "commissions", "statement", "--csv").stdout
    assert csv_text.startswith("creator_id,creator,currency,approved_minor")
    nothing = tracker(
        env,
        "commissions",
        "pay",
        "--creator",
        "maya",
        "--currency",
        "EUR",
        "--reference",
        "x",
        ok=False,
    )
    assert "nothing to pay" in nothing.stderr
