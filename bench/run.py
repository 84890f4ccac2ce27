"""Benchmark: the redirect against a bare Starlette 302, in one run on one machine.

    .venv/bin/python bench/run.py                 # full run (make bench)
    .venv/bin/python bench/run.py --quick         # a few seconds: smoke check of the harness
    .venv/bin/python bench/run.py --reps 5 --duration 15 --profile

Both servers run side by side, each one uvicorn worker on uvloop + httptools with the same
options as ``tracker serve``; every measured run uses the same ``wrk`` command (random slugs
over the generated links, browser headers) after an uncounted warm-up, and the targets are
interleaved (A B, B A, ...) so drift in the machine's load hits both alike. Server CPU per
request comes from /proc/PID/stat (utime + stime of the server process, all its threads),
the figure least disturbed by wrk sharing the cores. Click flush lag comes from the tracker's
own ``/healthz?since=`` (request time -> commit, for the clicks of that measured run).

Then: every 302 must be a click row (checked against the database after a SIGTERM drain),
signed Shopify postbacks/s and the ROI report over the 500-creator data set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import scenarios  # noqa: E402
from bench.dataset import Dataset, build  # noqa: E402
from bench.scenarios import Scenario  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
#: uvicorn options shared by both servers (the same as ``tracker serve`` passes).
UVICORN_OPTS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--no-server-header",
    "--no-date-header",
    "--log-level",
    "warning",
]
TARGETS = {
    "ratio_rps": 0.75,
    "ratio_cpu": 1.5,
    "ratio_cpu_all": 2.0,
    "abuse_p99": 2.0,
    "ratio_p99": 2.0,
    "lag_p99_ms": 100.0,
    "lag_max_ms": 250.0,
    "postbacks_per_s": 1000.0,
}


def say(msg: str) -> None:
    print(msg, flush=True)


# -- wrk ----------------------------------------------------------------------------------
def find_wrk() -> str:
    """The wrk binary; installs Debian's package when missing (and says so)."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("wrk not found: installing the Debian package 'wrk' with apt-get ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
        if found:
            say(f"installed {found}")
            return found
    raise SystemExit("wrk is required: install it (Debian/Ubuntu: apt-get install wrk) and rerun")


def wrk_command(
    wrk: str, url: str, args: argparse.Namespace, duration: float, slugfile: Path, sc: Scenario
) -> list[str]:
    return sc.wrk_command(wrk, url, duration, slugfile, args.connections, args.threads)


@dataclass
class WrkResult:
    data: dict[str, Any]
    cpu_s: float  # wrk's own CPU time (it shares the machine with the server)

    @property
    def requests(self) -> int:
        return int(self.data["requests"])

    @property
    def ok(self) -> int:
        """2xx/3xx answers: every answer of a healthy target is a 302 here."""
        return int(self.data["requests"]) - int(self.data["errors_status"])

    @property
    def rps(self) -> float:
        return self.requests / (self.data["duration_us"] / 1e6)

    @property
    def errors(self) -> int:
        d = self.data
        return sum(
            int(d[k])
            for k in (
                "errors_connect",
                "errors_read",
                "errors_write",
                "errors_status",
                "errors_timeout",
            )
        )


def run_wrk(cmd: list[str]) -> WrkResult:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip() or out[-500:]}")
    return WrkResult(json.loads(line.removeprefix("WRKJSON ")), usage.ru_utime + usage.ru_stime)


# -- servers ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all threads, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle by the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts[:8]) - idle) / CLK_TCK


class Server:
    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], ready: str, log: Path
    ) -> None:
        self.name, self.cmd, self.env, self.ready, self.log_path = name, cmd, env, ready, log
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.warmed = False  # --quick warms each server once, before its first run

    def start(self) -> Server:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + self.ready, timeout=2).status_code in (200, 302):
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 60) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._log.close()
        return code


def python() -> str:
    return sys.executable


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}


#: Extra TRACKER_* settings for the tracker under test (``--env NAME=VALUE``).
TRACKER_ENV: dict[str, str] = {}


def start_tracker(tmp: Path, data_dir: Path, name: str = "tracker") -> Server:
    """``tracker serve`` (its own uvicorn options: uvloop, httptools) on a data dir."""
    env = {
        **_base_env(),
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_LOG_LEVEL": "warning",
        **scenarios.TRACKER_ENV,
        **TRACKER_ENV,
    }
    cmd = [python(), "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return Server(name, cmd, env, "/healthz", tmp / f"{name}.log").start()


def start_servers(tmp: Path, data_dir: Path) -> tuple[Server, Server]:
    bare = Server(
        "bare",
        [
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
        ],
        _base_env(),
        "/ready",
        tmp / "bare.log",
    ).start()
    return bare, start_tracker(tmp, data_dir)


def writer_stats(server: Server, since: float | None = None) -> dict[str, Any]:
    params = {"since": f"{since:.6f}"} if since is not None else {}
    body = httpx.get(server.url + "/healthz", params=params, timeout=10).json()
    stats: dict[str, Any] = body["click_writer"]
    return stats


def wait_drained(server: Server, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = writer_stats(server)
        if stats["pending"] == 0 or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


# -- the redirect benchmark ---------------------------------------------------------------
@dataclass
class Run:
    scenario: str
    target: str
    rep: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU per request while wrk ran (the figure comparable to the bare)
    requests: int
    errors: int
    wrk_cpu_s: float
    other_cores: float  # CPU used by everything else on the machine during the run
    lag: dict[str, Any] = field(default_factory=dict)
    #: server CPU per request until the click queue was empty again (all enrichment done)
    cpu_drained_us: float = 0.0
    #: of which: describing user agents the redirect had not seen (the writer's enrichment)
    enrich_us: float = 0.0

    @property
    def redirect_us(self) -> float:
        """CPU per request of everything but the enrichment (the redirect path + the write)."""
        return (self.cpu_drained_us or self.cpu_us) - self.enrich_us


@dataclass
class Totals:
    """Every wrk run against the tracker (warm-ups too), for the click count check."""

    ok: int = 0
    sent: int = 0
    requests: int = 0

    def add(self, res: WrkResult) -> None:
        self.ok, self.sent = self.ok + res.ok, self.sent + int(res.data["sent"])
        self.requests += res.requests


def measure(
    server: Server,
    cmd: list[str],
    rep: int,
    args: argparse.Namespace,
    totals: Totals | None,
    scenario: str = "",
) -> Run:
    # not counted: fills caches, JITs nothing, wakes the CPU governor
    if args.warmup > 0 and not (args.quick and server.warmed):
        warm = run_wrk([c if not c.startswith("-d") else f"-d{args.warmup:g}s" for c in cmd])
        server.warmed = True
        if totals is not None:
            totals.add(warm)
            wait_drained(server)
    enrich0, helper0 = enrich_cpu(writer_stats(server)) if totals is not None else (0.0, 0.0)
    since = time.time()
    cpu0, busy0, t0 = proc_cpu_seconds(server.pid), machine_busy_seconds(), time.monotonic()
    res = run_wrk(cmd)
    cpu1, busy1, t1 = proc_cpu_seconds(server.pid), machine_busy_seconds(), time.monotonic()
    lag: dict[str, Any] = {}
    cpu2, enrich = cpu1, 0.0
    if totals is not None:
        totals.add(res)
        wait_drained(server)
        lag = writer_stats(server, since)
        enrich1, helper1 = enrich_cpu(lag)
        # the helper process's CPU is the server's too (it is not in the server's /proc)
        cpu2 = proc_cpu_seconds(server.pid) + helper1 - helper0
        enrich = enrich1 - enrich0
    server_cpu = cpu1 - cpu0
    other = max(0.0, (busy1 - busy0) - server_cpu - res.cpu_s) / max(t1 - t0, 1e-9)
    d = res.data
    n = max(res.requests, 1)
    return Run(
        scenario,
        server.name,
        rep,
        res.rps,
        d["p50_us"] / 1000,
        d["p99_us"] / 1000,
        server_cpu / n * 1e6,
        res.requests,
        res.errors,
        res.cpu_s,
        other,
        lag,
        (cpu2 - cpu0) / n * 1e6,
        enrich / n * 1e6,
    )


def enrich_cpu(stats: dict[str, Any]) -> tuple[float, float]:
    """(CPU seconds describing user agents in all, of which outside the server process:
    none today; where a helper process's CPU would be counted)."""
    return float(stats["describe_cpu_s"]), 0.0


def show(run: Run) -> None:
    lag = (
        f"  lag p99 {run.lag['lag_ms_p99']:.0f} ms max {run.lag['lag_ms_max']:.0f} ms"
        f"  cpu drained {run.cpu_drained_us:.1f} (enrich {run.enrich_us:.1f})"
        if run.lag
        else ""
    )
    say(
        f"  {run.scenario:12s} rep {run.rep + 1} {run.target:8s} {run.rps:9,.0f} req/s  p50 "
        f"{run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  cpu {run.cpu_us:6.1f} us/req"
        f"  errors {run.errors}  others {run.other_cores:.2f} cores{lag}"
    )


def selected(args: argparse.Namespace) -> list[Scenario]:
    names = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    chosen = [s for s in scenarios.THROUGHPUT if s.name in names]
    unknown = names - {s.name for s in scenarios.THROUGHPUT}
    if unknown:
        raise SystemExit(
            f"unknown scenario(s) {sorted(unknown)}; known: "
            f"{', '.join(s.name for s in scenarios.THROUGHPUT)}"
        )
    return chosen


def redirect_bench(
    args: argparse.Namespace, wrk: str, tmp: Path, data_dir: Path, slugfile: Path
) -> dict[str, Any]:
    bare, tracker = start_servers(tmp, data_dir)
    totals = Totals()
    runs: list[Run] = []
    abuse: dict[str, Any] | None = None
    try:
        chosen = selected(args)
        for sc in chosen:
            shown = " ".join(wrk_command("wrk", "URL", args, args.duration, slugfile, sc))
            say(f"{sc.name}: {sc.title}\n  wrk command (both targets): {shown}")
        # Interleaved: scenarios alternate within a rep, targets alternate between reps.
        for rep in range(args.reps):
            for sc in chosen:
                order = [bare, tracker] if rep % 2 == 0 else [tracker, bare]
                for server in order:
                    cmd = wrk_command(wrk, server.url, args, args.duration, slugfile, sc)
                    run = measure(
                        server, cmd, rep, args, totals if server is tracker else None, sc.name
                    )
                    runs.append(run)
                    show(run)
        if not args.skip_abuse:
            from bench.abuse import abuse_bench

            abuse = abuse_bench(args, wrk, bare, tracker, slugfile, totals)
        if args.profile and chosen:
            profile_tracker(
                tracker,
                wrk_command(wrk, tracker.url, args, args.duration, slugfile, chosen[0]),
                totals,
                tmp,
            )
        final = wait_drained(tracker)
    finally:
        bare.stop()
        code = tracker.stop()
    with sqlite3.connect(f"file:{data_dir / 'tracker.db'}?mode=ro", uri=True) as db:
        clicks = db.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
        unparsed = db.execute(
            "SELECT COUNT(*) FROM clicks WHERE browser = '' AND bot_reason IS NULL"
        ).fetchone()[0]
    return {
        "runs": runs,
        "totals": totals,
        "db_clicks": clicks,
        "db_undescribed": unparsed,
        "writer": final,
        "tracker_exit": code,
        "abuse": abuse,
    }


def profile_tracker(server: Server, cmd: list[str], totals: Totals, tmp: Path) -> None:
    """One extra (uncounted) run under py-spy; prints where the server's time goes."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        say("profile: py-spy not installed (pip install py-spy); skipped")
        return
    out = BENCH / "results" / "profile-redirect.txt"
    out.parent.mkdir(exist_ok=True)
    raw = tmp / "profile.raw"
    duration = max(2, int(float(cmd[3].removeprefix("-d").removesuffix("s"))))
    spy_proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(duration),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--nonblocking",
            "--threads",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    totals.add(run_wrk(cmd))
    _, err = spy_proc.communicate(timeout=duration + 30)
    if not raw.exists():
        say(f"profile: py-spy failed: {err.strip()[-300:]}")
        return
    from bench.profile_summary import summarise

    text = summarise(raw.read_text())
    out.write_text(text)
    say(f"profile (py-spy, one extra new-visitor run; full listing in {out.relative_to(ROOT)}):")
    say("\n".join(text.splitlines()[:30]))


# -- postbacks and reports ----------------------------------------------------------------
def postback_bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any] | None:
    if args.skip_postbacks:
        return None
    from bench.postbacks import run_postbacks

    result: dict[str, Any] = run_postbacks(args, tmp)
    return result


def report_bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any] | None:
    if args.skip_report:
        return None
    from bench.report import run_report

    result: dict[str, Any] = run_report(args, tmp)
    return result


# -- output -------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(result: dict[str, Any], scenario: str) -> dict[str, Any]:
    runs: list[Run] = [r for r in result["runs"] if r.scenario == scenario]
    bare = [r for r in runs if r.target == "bare"]
    ours = [r for r in runs if r.target == "tracker"]
    out: dict[str, Any] = {}
    for key in ("rps", "p50_ms", "p99_ms", "cpu_us", "other_cores"):
        b, t = median([getattr(r, key) for r in bare]), median([getattr(r, key) for r in ours])
        out[key] = {"bare": b, "tracker": t, "ratio": t / b if b else float("nan")}
    b = out["cpu_us"]["bare"]
    for key in ("redirect_us", "cpu_drained_us", "enrich_us"):
        t = median([getattr(r, key) for r in ours])
        out[key] = {"bare": b, "tracker": t, "ratio": t / b if b else float("nan")}
    out["lag_p99_ms"] = max((r.lag["lag_ms_p99"] for r in ours), default=float("nan"))
    out["lag_max_ms"] = max((r.lag["lag_ms_max"] for r in ours), default=float("nan"))
    out["lag_p99_ms_median"] = median([r.lag["lag_ms_p99"] for r in ours])
    out["pairs_rps"] = [round(t.rps / b.rps, 3) for b, t in zip(bare, ours, strict=False) if b.rps]
    return out


def print_table(s: dict[str, Any], scenario: Scenario, reps: int) -> list[str]:
    t = TARGETS
    lines = [
        f"### {scenario.name}: {scenario.title}",
        "",
        f"Medians of {reps} interleaved run(s); ratio = tracker / bare (same wrk command).",
        "",
        "| figure | bare Starlette 302 | GET /{slug} (tracker) | ratio | target |",
        "|---|---:|---:|---:|---|",
        f"| requests/s | {s['rps']['bare']:,.0f} | {s['rps']['tracker']:,.0f} | "
        f"{s['rps']['ratio']:.2f}x | >= {t['ratio_rps']}x |",
        f"| latency p50 (ms) | {s['p50_ms']['bare']:.2f} | {s['p50_ms']['tracker']:.2f} | "
        f"{s['p50_ms']['ratio']:.2f}x | |",
        f"| latency p99 (ms) | {s['p99_ms']['bare']:.2f} | {s['p99_ms']['tracker']:.2f} | "
        f"{s['p99_ms']['ratio']:.2f}x | <= {t['ratio_p99']}x |",
        f"| server CPU while wrk ran (us/request) | {s['cpu_us']['bare']:.1f} | "
        f"{s['cpu_us']['tracker']:.1f} | {s['cpu_us']['ratio']:.2f}x | |",
        f"| server CPU, redirect path (us/request, all but enrichment, until drained) | "
        f"{s['redirect_us']['bare']:.1f} | {s['redirect_us']['tracker']:.1f} | "
        f"{s['redirect_us']['ratio']:.2f}x | <= {t['ratio_cpu']}x |",
        f"| server CPU, all enrichment included, until drained (us/request) | "
        f"{s['cpu_drained_us']['bare']:.1f} | {s['cpu_drained_us']['tracker']:.1f} | "
        f"{s['cpu_drained_us']['ratio']:.2f}x | <= {t['ratio_cpu_all']}x |",
        f"| of which user-agent enrichment in the writer (us/request) | - | "
        f"{s['enrich_us']['tracker']:.1f} | | |",
        f"| click flush lag p99 (ms, worst run) | - | {s['lag_p99_ms']:.1f} | - | "
        f"<= {t['lag_p99_ms']:.0f} ms |",
        f"| click flush lag max (ms, worst run) | - | {s['lag_max_ms']:.1f} | - | "
        f"<= {t['lag_max_ms']:.0f} ms |",
        f"| other load on the machine (cores) | {s['other_cores']['bare']:.2f} | "
        f"{s['other_cores']['tracker']:.2f} | | |",
    ]
    return lines


def verdicts(s: dict[str, Any]) -> list[str]:
    checks = [
        ("throughput", s["rps"]["ratio"] >= TARGETS["ratio_rps"]),
        ("CPU/request (redirect path)", s["redirect_us"]["ratio"] <= TARGETS["ratio_cpu"]),
        ("CPU/request (all)", s["cpu_drained_us"]["ratio"] <= TARGETS["ratio_cpu_all"]),
        ("p99 latency", s["p99_ms"]["ratio"] <= TARGETS["ratio_p99"]),
        ("flush lag p99", s["lag_p99_ms"] <= TARGETS["lag_p99_ms"]),
        ("flush lag max", s["lag_max_ms"] <= TARGETS["lag_max_ms"]),
    ]
    return [f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("uvicorn", "granian", "starlette", "uvloop", "httptools", "aiosqlite"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    out["sqlite"] = sqlite3.sqlite_version
    return out


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "loadavg": " ".join(load),
        "kernel": platform.release(),
    }


# -- main ---------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke check: 1 rep of 1 s, 5,000 links, each server warmed up once (1 s)",
    )
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (default 3)")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=3, help="uncounted seconds before each")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--links", type=int, default=100_000)
    p.add_argument("--creators", type=int, default=500)
    p.add_argument("--postbacks", type=int, default=5_000, help="signed orders to send")
    p.add_argument("--report-clicks", type=int, default=200_000, help="clicks in the ROI data set")
    p.add_argument("--report-orders", type=int, default=2_000, help="orders in the ROI data set")
    p.add_argument("--skip-report", action="store_true")
    p.add_argument("--profile", action="store_true", help="one extra run under py-spy")
    p.add_argument("--skip-redirect", action="store_true")
    p.add_argument(
        "--scenarios",
        default=",".join(sc.name for sc in scenarios.THROUGHPUT),
        help="throughput scenarios, comma-separated (default: all, the new-visitor one first)",
    )
    p.add_argument("--skip-abuse", action="store_true", help="skip the abusive-client scenario")
    p.add_argument("--skip-postbacks", action="store_true")
    p.add_argument(
        "--targeting",
        action="store_true",
        help="every link with targeting rules, A/B variants and a Shopify code URL "
        "(bench/targeting.py); the country lookup is always on",
    )
    p.add_argument(
        "--servers",
        action="store_true",
        help="also the bare 302 and the redirect on uvicorn and granian (and nginx if "
        "installed), same run (bench/servers.py)",
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="TRACKER_NAME=VALUE",
        help="a setting for the tracker under test (repeatable), e.g. "
        "TRACKER_SQLITE_SYNCHRONOUS=normal",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        help="write every figure here (default bench/results/run-TIME.json)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = p.parse_args(argv)
    if args.quick:
        args.reps, args.duration, args.warmup = 1, 1, 1
        args.links, args.creators, args.postbacks = min(args.links, 5_000), 50, 300
        args.report_clicks, args.report_orders = 5_000, 100
    return args


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # run the finally blocks: stop the servers we started


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    wrk = args.wrk = find_wrk()
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("TRACKER_"):
            raise SystemExit(f"--env expects TRACKER_NAME=VALUE, got {item!r}")
        TRACKER_ENV[name] = value
    info = {
        "tracker_env": dict(TRACKER_ENV),
        "machine": machine(),
        "versions": versions(),
        "command": " ".join(
            [
                Path(sys.executable).name,
                "bench/run.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
    }
    versions_line = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    say(
        f"machine: {info['machine']['nproc']} cores, {info['machine']['cpu']}, load "
        f"{info['machine']['loadavg']}; {versions_line}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="creatorlink-bench-"))
    results: dict[str, Any] = {"info": info}
    failed = False
    try:
        data_dir = tmp / "data"
        if not args.skip_redirect:
            t0 = time.perf_counter()
            data = Dataset.generate(creators=args.creators, links=args.links, clicks=0)
            if args.targeting:
                from bench.targeting import add_targeting

                add_targeting(data.links)  # rules, A/B variants, a code-applying URL each
            import asyncio

            asyncio.run(build(data_dir, data))
            slugfile = tmp / "slugs.txt"
            slugfile.write_text("\n".join(data.slugs) + "\n")
            say(
                f"data set: {len(data.links):,} links over {len(data.creators)} creators in "
                f"{time.perf_counter() - t0:.1f}s ({data_dir})"
            )
            red = redirect_bench(args, wrk, tmp, data_dir, slugfile)
            totals: Totals = red["totals"]
            results["redirect"] = {"runs": [r.__dict__ for r in red["runs"]], "scenarios": {}}
            for sc in selected(args):
                s = summarise(red, sc.name)
                say("")
                table = print_table(s, sc, args.reps)
                say("\n".join(table))
                say("targets: " + "; ".join(verdicts(s)))
                results["redirect"]["scenarios"][sc.name] = {
                    "summary": s,
                    "table": table,
                    "targets": verdicts(s),
                }
            if red["abuse"] is not None:
                from bench.abuse import print_abuse

                say("")
                results["redirect"]["abuse"] = red["abuse"]
                say("\n".join(print_abuse(red["abuse"], args.reps)))
            exact = totals.ok <= red["db_clicks"] <= totals.sent
            say(
                f"\nclicks: wrk got {totals.ok:,} 302s (sent {totals.sent:,}, the difference is "
                f"requests in flight when wrk stopped); database holds {red['db_clicks']:,} "
                f"clicks -> {'OK' if exact else 'MISMATCH'}; {red['db_undescribed']} without a "
                f"user-agent description; writer dropped {red['writer']['dropped']}, tracker "
                f"exit code {red['tracker_exit']}"
            )
            failed |= not exact or red["writer"]["dropped"] > 0 or red["db_undescribed"] > 0
            results["redirect"]["clicks"] = {
                "wrk_302": totals.ok,
                "wrk_sent": totals.sent,
                "db": red["db_clicks"],
                "undescribed": red["db_undescribed"],
                "match": exact,
            }
            if args.servers:  # bench/servers.py: both HTTP servers (and nginx) in one run
                from bench.servers import run_block

                failed |= run_block(args, wrk, tmp, data_dir, slugfile, results)
        pb = postback_bench(args, tmp)
        if pb is not None:
            results["postbacks"] = pb
        rp = report_bench(args, tmp)
        if rp is not None:
            results["report"] = rp
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"kept {tmp}")
    out = args.json or BENCH / "results" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    say(f"figures written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
