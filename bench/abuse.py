"""The abusive-client scenario for ``bench/run.py``: does one client flooding unique user
agents slow another shopper down?

For each target (the bare 302 and the tracker, alternating first place between reps):

* *quiet*: the shopper alone (``scenarios.SHOPPER``: one address, 4 connections, a request
  per connection every 10 ms);
* *abused*: the same shopper while one client (``scenarios.ABUSER``: one address, 16
  connections, no pause) sends a user agent never seen before with every request; the
  abuser starts half a second before the shopper and stops after it.

The figure is the shopper's p99 under abuse divided by its quiet p99, per target; the
target is <= 2x for the tracker. The bare 302's ratio is the floor: what sharing one event
loop with a flood costs any server, with no per-click work at all.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.run import TARGETS, Server, Totals, WrkResult, run_wrk, say, wait_drained


def _wrk(
    server: Server, sc: scenarios.Scenario, wrk: str, duration: float, slugs: Path
) -> list[str]:
    return sc.wrk_command(wrk, server.url, duration, slugs, 16, 1)


def one(
    server: Server,
    wrk: str,
    slugs: Path,
    duration: float,
    abused: bool,
    totals: Totals | None,
) -> dict[str, Any]:
    flood: list[WrkResult] = []
    thread = None
    if abused:
        cmd = _wrk(server, scenarios.ABUSER, wrk, duration + 1, slugs)
        thread = threading.Thread(target=lambda: flood.append(run_wrk(cmd)))
        thread.start()
        time.sleep(0.5)
    shopper = run_wrk(_wrk(server, scenarios.SHOPPER, wrk, duration, slugs))
    if thread is not None:
        thread.join()
    if totals is not None:
        totals.add(shopper)
        for res in flood:
            totals.add(res)
        wait_drained(server)
    d = shopper.data
    out = {
        "target": server.name,
        "abused": abused,
        "shopper_rps": round(shopper.rps, 1),
        "shopper_p50_ms": d["p50_us"] / 1000,
        "shopper_p99_ms": d["p99_us"] / 1000,
        "shopper_errors": shopper.errors,
    }
    if flood:
        out["abuser_rps"] = round(flood[0].rps, 1)
        out["abuser_errors"] = flood[0].errors
    return out


def abuse_bench(
    args: argparse.Namespace,
    wrk: str,
    bare: Server,
    tracker: Server,
    slugs: Path,
    totals: Totals,
) -> dict[str, Any]:
    say(f"abuse: {scenarios.ABUSER.title}; {scenarios.SHOPPER.title}")
    runs: list[dict[str, Any]] = []
    for rep in range(args.reps):
        order = [bare, tracker] if rep % 2 == 0 else [tracker, bare]
        for server in order:
            for abused in (False, True):
                r = one(
                    server, wrk, slugs, args.duration, abused, totals if server is tracker else None
                )
                r["rep"] = rep
                runs.append(r)
                flood = f"  abuser {r['abuser_rps']:,.0f} req/s" if abused else ""
                say(
                    f"  abuse rep {rep + 1} {server.name:8s} {'abused' if abused else 'quiet ':6s}"
                    f"  shopper p50 {r['shopper_p50_ms']:.2f} ms p99 {r['shopper_p99_ms']:.2f} ms"
                    f"  ({r['shopper_rps']:,.0f} req/s){flood}"
                )
    summary: dict[str, Any] = {}
    for target in ("bare", "tracker"):
        quiet = [r["shopper_p99_ms"] for r in runs if r["target"] == target and not r["abused"]]
        loud = [r["shopper_p99_ms"] for r in runs if r["target"] == target and r["abused"]]
        flood = [r["abuser_rps"] for r in runs if r["target"] == target and r["abused"]]
        q, a = statistics.median(quiet), statistics.median(loud)
        summary[target] = {
            "quiet_p99_ms": q,
            "abused_p99_ms": a,
            "ratio": a / q if q else float("nan"),
            "abuser_rps": statistics.median(flood),
        }
    return {"runs": runs, "summary": summary}


def print_abuse(result: dict[str, Any], reps: int) -> list[str]:
    s = result["summary"]
    b, t = s["bare"], s["tracker"]
    ok = t["ratio"] <= TARGETS["abuse_p99"]
    return [
        f"### abuse: {scenarios.ABUSER.title}, while {scenarios.SHOPPER.title}",
        "",
        f"Medians of {reps} rep(s); the shopper's latency p99 alone (quiet) and during the flood.",
        "",
        "| figure | bare Starlette 302 | tracker | target |",
        "|---|---:|---:|---|",
        f"| shopper p99, quiet (ms) | {b['quiet_p99_ms']:.2f} | {t['quiet_p99_ms']:.2f} | |",
        f"| shopper p99, abused (ms) | {b['abused_p99_ms']:.2f} | {t['abused_p99_ms']:.2f} | |",
        f"| abused / quiet | {b['ratio']:.2f}x | {t['ratio']:.2f}x | <= {TARGETS['abuse_p99']}x |",
        f"| abuser's requests/s | {b['abuser_rps']:,.0f} | {t['abuser_rps']:,.0f} | |",
        "",
        f"targets: abuse p99: {'met' if ok else 'MISSED'}",
    ]
