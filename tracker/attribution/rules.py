"""Attribution as pure functions: an order's touches in, a winner and its explanation out.

Signals, strongest first by default: a discount code (the code's creator, at order time), a
click id found on the order (that click's creator), a fingerprint match to a human click
within the lookback window (weaker, flagged). ``TRACKER_CONFLICT_POLICY=click`` lets a click
beat a code when they point at different creators. Unknown codes and click ids are kept as
unmatched touches so they show up as unattributed rather than vanish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

T = TypeVar("T")
STRENGTH = {"code": ("code", "click", "fingerprint"), "click": ("click", "code", "fingerprint")}


@dataclass(frozen=True)
class Touch:
    method: str  # code | click | fingerprint
    at: str
    creator_id: str | None = None
    link_id: str | None = None
    campaign_id: str | None = None
    code: str | None = None
    click_id: str | None = None
    matched: bool = True
    winner: bool = False
    note: str = ""
    confidence: float | None = None  # fingerprint touches only, 0..1

    def label(self) -> str:
        what = (
            f"code {self.code}"
            if self.method == "code"
            else (
                f"click {self.click_id}"
                if self.method == "click"
                else f"fingerprint click {self.click_id}"
            )
        )
        return f"{what} -> {self.creator_id or 'nobody'}"


def choose_winner(touches: list[Touch], policy: str = "code") -> tuple[list[Touch], str]:
    """Mark the winning touch; return the touches and a one-line explanation."""
    matched = [t for t in touches if t.matched and t.creator_id]
    if not matched:
        why = (
            "no signal found"
            if not touches
            else "unattributed: " + "; ".join(f"{t.label()} ({_reason(t)})" for t in touches)
        )
        return touches, why
    best = min(matched, key=lambda t: rank(t.method, t.at, policy))
    out = [replace(t, winner=t is best) for t in touches]
    losers = [t for t in matched if t is not best and t.creator_id != best.creator_id]
    sure = "" if best.confidence is None else f", confidence {best.confidence:.2f}"
    why = f"{best.label()} wins ({best.method} is the strongest signal found{sure}"
    why += f", policy={policy})" if losers else ")"
    if losers:
        why += "; outranked: " + "; ".join(t.label() for t in losers)
    unmatched = [t for t in touches if not t.matched]
    if unmatched:
        why += "; unmatched: " + "; ".join(f"{t.label()} ({_reason(t)})" for t in unmatched)
    return out, why


def _reason(t: Touch) -> str:
    """Why a touch gives no credit, in the touch's own words (the explanation repeats them)."""
    return t.note or ("no creator behind it" if not t.creator_id else "not matched")


def rank(method: str, at: str, policy: str = "code") -> tuple[int, tuple[int, ...]]:
    """Sort key of the winner rule (smallest wins): the strongest signal under the conflict
    policy, then the latest touch. Ingest and the reports' fallback both use it."""
    order = STRENGTH.get(policy, STRENGTH["code"])
    return order.index(method), _neg(at)


def best_of(items: list[T], policy: str, key: Callable[[T], tuple[str, str]]) -> T:
    """The winning item of a non-empty list; ``key`` gives each item's (method, at)."""
    return min(items, key=lambda it: rank(*key(it), policy))


def _neg(at: str) -> tuple[int, ...]:
    """Sort key putting the latest timestamp first."""
    return tuple(-ord(c) for c in at)
