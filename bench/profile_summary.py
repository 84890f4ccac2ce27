"""Summarise a py-spy ``--format raw`` profile: share of samples per thread, per own function
(self time) and per function including callees, with line numbers folded away."""

from __future__ import annotations

import re
from collections import Counter

_LINE = re.compile(r":\d+\)")


def summarise(raw: str, top: int = 25) -> str:
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        name = frames[0].split(": ", 1)[-1].split(" (")[0]
        threads[name] += n
        calls = [_LINE.sub(")", f) for f in frames[1:]] or ["(native)"]
        own[f"[{name}] {calls[-1]}"] += n
        for f in set(calls):
            incl[f"[{name}] {f}"] += n
    if not total:
        return "no samples\n"
    out = [f"{total} samples (active only, all threads)", "", "per thread:"]
    out += [f"  {c / total:6.1%}  {t}" for t, c in threads.most_common()]
    out += ["", "self time (the function itself):"]
    out += [f"  {c / total:6.1%}  {f}" for f, c in own.most_common(top)]
    out += ["", "inclusive (the function and what it calls):"]
    out += [f"  {c / total:6.1%}  {f}" for f, c in incl.most_common(top * 2)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    print(summarise(open(sys.argv[1]).read()))  # noqa: SIM115
