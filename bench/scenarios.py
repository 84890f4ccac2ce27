"""The traffic ``bench/run.py`` sends: one definition per scenario, shared by every target.

A scenario is a wrk script and its arguments, plus the connection count when it is not the
run's ``--connections``. Every target (the bare Starlette 302, the tracker, and any server
option added later) gets exactly the same wrk command for a scenario, so ratios compare
like with like; a new server is a new target in ``run.py``, not a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
#: 116 real in-app and mobile user agents (Instagram, Facebook, TikTok, ...; a copy of
#: shared/fixtures/user-agents/in-app.txt): the templates the new-visitor traffic varies per
#: request (build numbers, ids, device models).
IN_APP_AGENTS = BENCH.parent / "tests" / "fixtures" / "user-agents" / "in-app.txt"

#: Settings the tracker runs with in every scenario: wrk is the trusted proxy, so the
#: tracker believes its X-Forwarded-For (as it would a load balancer's).
TRACKER_ENV = {"TRACKER_TRUSTED_PROXIES": "127.0.0.1/32"}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    script: str  # a file in bench/
    mode: str | None = None  # traffic.lua's MODE; None for slugs.lua
    connections: int | None = None  # None: the run's --connections
    threads: int | None = None  # None: the run's --threads
    delay_ms: int = 0  # per connection, before each request (traffic.lua only)

    def script_args(self, slugfile: Path) -> list[str]:
        if self.mode is None:
            return [str(slugfile)]
        return [self.mode, str(slugfile), str(IN_APP_AGENTS), str(self.delay_ms)]

    def wrk_command(
        self,
        wrk: str,
        url: str,
        duration: float,
        slugfile: Path,
        connections: int,
        threads: int,
    ) -> list[str]:
        c = self.connections or connections
        t = min(self.threads or threads, c)
        return [
            wrk,
            f"-t{t}",
            f"-c{c}",
            f"-d{duration:g}s",
            "--timeout",
            "5s",
            "-s",
            str(BENCH / self.script),
            url,
            "--",
            *self.script_args(slugfile),
        ]


NEW_VISITORS = Scenario(
    "new-visitors",
    "every click a new visitor: distinct X-Forwarded-For address, an in-app/mobile user agent "
    "never seen before (build numbers, ids, device model varied per request), random slug",
    "traffic.lua",
    "new",
)
EIGHT_VISITORS = Scenario(
    "8-visitors",
    "one address, 8 user agents (one facebookexternalhit), random slug: the issue-8 scenario",
    "slugs.lua",
)
#: Measured side by side, interleaved with the bare 302 (ratios): the headline first.
THROUGHPUT = (NEW_VISITORS, EIGHT_VISITORS)

#: The abuse scenario: one client floods unique user agents while a shopper browses.
ABUSER = Scenario(
    "abuser",
    "one client (one address) sending unique user agents as fast as it can, 16 connections",
    "traffic.lua",
    "abuser",
    connections=16,
    threads=1,
)
SHOPPER = Scenario(
    "shopper",
    "another shopper: one address, one in-app agent, 4 connections at ~400 requests/s",
    "traffic.lua",
    "shopper",
    connections=4,
    threads=1,
    delay_ms=10,
)
