"""The HTTP server under the app: the bare Starlette 302 and our redirect on uvicorn and on
granian, in the same run (``bench/run.py --servers``), plus nginx's ``return 302`` as the
physical reference when nginx is installed (never required).

Every target gets the same ``wrk`` command, interleaved (the order rotates each rep), one
worker each, the same options as ``tracker serve`` (uvloop; granian with
``tracker.serve.run_granian``: embedded, ASGI, HTTP/1, one process). Ratios are to the bare 302 on uvicorn (the
project's ceiling so far). Each tracker serves its own copy of the generated data set,
and after the runs its clicks are counted against the 302s wrk received.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from bench.run import (
    BENCH,
    TRACKER_ENV,
    UVICORN_OPTS,
    Run,
    Server,
    Totals,
    _base_env,
    measure,
    median,
    python,
    say,
    start_tracker,
    wait_drained,
    wrk_command,
)
from bench.scenarios import THROUGHPUT

SERVERS = ("uvicorn", "granian")
NGINX_CONF = """
worker_processes 1;
daemon off;
error_log {tmp}/nginx-error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {tmp}/nginx-body;
    server {{
        listen 127.0.0.1:{{port}} backlog=2048;
        location / {{ return 302 https://shop.example.com/products/serum; }}
    }}
}}
"""


def _bare(name: str, kind: str, tmp: Path) -> Server:
    if kind == "uvicorn":
        cmd = [
            python(),
            "-m",
            "uvicorn",
            "--app-dir",
            str(BENCH),
            "bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            *UVICORN_OPTS,
        ]
    else:  # granian as ``tracker serve`` runs it (embedded, this process: CPU measurable)
        cmd = [python(), "-m", "bench.servers", "{port}"]
    return Server(name, cmd, _base_env(), "/ready", tmp / f"{name}.log").start()


def _nginx(tmp: Path) -> Server | None:
    nginx = shutil.which("nginx")
    if not nginx:
        return None
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp))
    # Server.start replaces {port} in the command only: write the file per port there.
    script = tmp / "nginx.sh"
    script.write_text(
        f'#!/bin/sh\nsed "s/{{port}}/$1/" {conf} > {tmp}/nginx-run.conf\n'
        f"exec {nginx} -p {tmp} -c {tmp}/nginx-run.conf\n"
    )
    script.chmod(0o755)
    return Server(
        "nginx", [str(script), "{port}"], _base_env(), "/ready", tmp / "nginx.log"
    ).start()


def _clicks(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'tracker.db'}?mode=ro", uri=True) as conn:
        n: int = conn.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
    return n


def _tracker(kind: str, tmp: Path, data_dir: Path) -> Server:
    own = tmp / f"data-{kind}"
    shutil.copytree(data_dir, own)
    TRACKER_ENV["TRACKER_SERVER"] = kind
    try:
        return start_tracker(tmp, own, name=f"tracker-{kind}")
    finally:
        TRACKER_ENV.pop("TRACKER_SERVER", None)


def servers_bench(
    args: argparse.Namespace, wrk: str, tmp: Path, data_dir: Path, slugfile: Path
) -> dict[str, Any]:
    targets: list[Server] = []
    trackers: dict[str, Server] = {}
    totals = {kind: Totals() for kind in SERVERS}
    runs: list[Run] = []
    codes: dict[str, int] = {}
    before = _clicks(data_dir)  # the data set as copied (other benchmarks may have clicked)
    names = {s.strip() for s in args.scenarios.split(",")}
    chosen = [sc for sc in THROUGHPUT if sc.name in names] or [THROUGHPUT[0]]
    try:
        for kind in SERVERS:
            targets.append(_bare(f"bare-{kind}", kind, tmp))
        for kind in SERVERS:
            trackers[kind] = _tracker(kind, tmp, data_dir)
            targets.append(trackers[kind])
        ref = _nginx(tmp)
        if ref is not None:
            targets.insert(0, ref)
        else:
            say("nginx not installed: no physical reference this run")
        for rep in range(args.reps):
            shift = rep % len(targets)
            # both kinds of traffic (issue 22, ``--scenarios``), the headline first
            for sc in chosen:
                for server in targets[shift:] + targets[:shift]:
                    kind = server.name.removeprefix("tracker-")
                    tally = totals.get(kind) if server.name.startswith("tracker-") else None
                    cmd = wrk_command(wrk, server.url, args, args.duration, slugfile, sc)
                    run = measure(server, cmd, rep, args, tally, sc.name)
                    runs.append(run)
                    say(
                        f"  rep {rep + 1} {sc.name:12s} {run.target:16s} {run.rps:9,.0f} req/s"
                        f"  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  cpu "
                        f"{run.cpu_us:6.1f} us/req  errors {run.errors}"
                    )
        writers = {kind: wait_drained(srv) for kind, srv in trackers.items()}
    finally:
        for server in targets:
            codes[server.name] = server.stop()
    clicks = {}
    for kind in SERVERS:
        n = _clicks(tmp / f"data-{kind}") - before
        t = totals[kind]
        clicks[kind] = {"wrk_302": t.ok, "wrk_sent": t.sent, "db": n, "match": t.ok <= n <= t.sent}
    return {"runs": runs, "clicks": clicks, "writers": writers, "exit_codes": codes}


def summarise_servers(result: dict[str, Any], reps: int) -> tuple[dict[str, Any], list[str]]:
    runs: list[Run] = result["runs"]
    names = list(dict.fromkeys(r.target for r in runs))
    lines = [
        f"Medians of {reps} interleaved run(s); ratio = requests/s / bare Starlette 302 on "
        "uvicorn under the same traffic.",
    ]
    med: dict[str, Any] = {}
    for sc in dict.fromkeys(r.scenario for r in runs):
        med[sc] = {
            name: {
                key: median(
                    [getattr(r, key) for r in runs if r.target == name and r.scenario == sc]
                )
                for key in ("rps", "p50_ms", "p99_ms", "cpu_us")
            }
            for name in names
        }
        base = med[sc].get("bare-uvicorn", {}).get("rps") or float("nan")
        lines += [
            "",
            f"{sc}:",
            "",
            "| target | requests/s | ratio | p50 (ms) | p99 (ms) | server CPU (us/req) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name in names:
            m = med[sc][name]
            lines.append(
                f"| {name} | {m['rps']:,.0f} | {m['rps'] / base:.2f}x | {m['p50_ms']:.2f} | "
                f"{m['p99_ms']:.2f} | {m['cpu_us']:.1f} |"
            )
    for kind, c in result["clicks"].items():
        lines.append(
            f"\nclicks on {kind}: wrk got {c['wrk_302']:,} 302s, database holds {c['db']:,} "
            f"-> {'OK' if c['match'] else 'MISMATCH'}; writer dropped "
            f"{result['writers'][kind]['dropped']}"
        )
    return med, lines


def run_block(
    args: argparse.Namespace,
    wrk: str,
    tmp: Path,
    data_dir: Path,
    slugfile: Path,
    results: dict[str, Any],
) -> bool:
    """``bench/run.py --servers``: run, print, store in ``results``; True when a check failed."""
    say("\nHTTP servers (bare 302 and GET /{slug} on each, same run):")
    out = servers_bench(args, wrk, tmp, data_dir, slugfile)
    med, lines = summarise_servers(out, args.reps)
    say("\n".join(lines))
    results["servers"] = {
        "medians": med,
        "table": lines,
        "runs": [r.__dict__ for r in out["runs"]],
        "clicks": out["clicks"],
        "exit_codes": out["exit_codes"],
    }
    dropped = any(w["dropped"] for w in out["writers"].values())
    return dropped or not all(c["match"] for c in out["clicks"].values())


if __name__ == "__main__":  # the bare 302 on granian, exactly as tracker.serve runs granian
    import sys

    from bench.bare_app import app
    from tracker.serve import raise_open_files_limit, run_granian

    conns = raise_open_files_limit() - 256
    raise SystemExit(
        run_granian(
            app, "127.0.0.1", int(sys.argv[1]), header_timeout=5, conns=conns, log_level="warning"
        )
    )
