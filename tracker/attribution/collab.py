"""Collaborations: a link or a code shared by several creators, credit split by stated shares.

Pure: the reports hand each credited touch through ``expand`` after the attribution model has
split the order; a touch through a collaboration's link (a click or a fingerprint match) or
its code becomes one credit per member, its minor units split by basis points exactly
(``split_bp``: whole units, the leftover units to the largest remainders, ties to the larger
share then the member listed first), so an order's credits still add up to its revenue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

FULL_BP = 10_000


@dataclass(frozen=True)
class Collab:
    id: str
    name: str
    shares: tuple[tuple[str, int], ...]  # (creator_id, basis points), summing to 10,000


@dataclass(frozen=True)
class Collabs:
    """The collaborations in force, found by link id and by lower-cased code."""

    by_link: dict[str, Collab] = field(default_factory=dict)
    by_code: dict[str, Collab] = field(default_factory=dict)

    @classmethod
    def of_rows(cls, rows: Iterable[dict[str, Any]]) -> Collabs:
        by_link, by_code = {}, {}
        for r in rows:
            shares = tuple((s["creator_id"], int(s["share_bp"])) for s in r["shares"])
            if sum(bp for _, bp in shares) != FULL_BP:
                continue  # never stored so (checked on the way in): ignored rather than guessed
            c = Collab(r["id"], r["name"], shares)
            if r.get("link_id"):
                by_link[r["link_id"]] = c
            if r.get("code_key"):
                by_code[str(r["code_key"]).lower()] = c
        return cls(by_link, by_code)

    def of(self, method: str, link_id: str | None, code: str | None) -> Collab | None:
        if method == "code":
            return self.by_code.get((code or "").lower())
        return self.by_link.get(link_id or "")


def check_shares(shares: Sequence[tuple[str, int]]) -> str | None:
    """Why these shares are not a collaboration (None when they are one)."""
    if len(shares) < 2:
        return "a collaboration needs at least two creators"
    if len({c for c, _ in shares}) != len(shares):
        return "each creator may appear once"
    if any(bp <= 0 or bp > FULL_BP for _, bp in shares):
        return "each share is 1..10000 basis points"
    total = sum(bp for _, bp in shares)
    if total != FULL_BP:
        return f"shares must sum to 10000 basis points (100%), not {total}"
    return None


def split_bp(amount: int, bps: Sequence[int]) -> list[int]:
    """``amount`` minor units split by basis points, exactly, in integers (no floats)."""
    sign, whole = (-1, -amount) if amount < 0 else (1, amount)
    total = sum(bps)
    if total <= 0:
        return [0] * len(bps)
    parts = [whole * bp // total for bp in bps]
    rems = [whole * bp % total for bp in bps]
    left = whole - sum(parts)
    for i in sorted(range(len(bps)), key=lambda i: (-rems[i], -bps[i], i))[:left]:
        parts[i] += 1
    return [sign * p for p in parts]


class Splittable(Protocol):
    creator_id: str
    share: float
    revenue: int
    method: str
    link_id: str | None
    code: str | None
    collab_id: str | None


C = TypeVar("C", bound=Splittable)


def expand(credits: list[C], collabs: Collabs) -> list[C]:
    """Each credit through a collaboration -> one per member (shares and revenue split)."""
    if not collabs.by_link and not collabs.by_code:
        return credits
    out: list[C] = []
    for cr in credits:
        c = collabs.of(cr.method, cr.link_id, cr.code)
        if c is None:
            out.append(cr)
            continue
        amounts = split_bp(cr.revenue, [bp for _, bp in c.shares])
        for (creator_id, bp), amount in zip(c.shares, amounts, strict=True):
            out.append(
                replace(  # type: ignore[type-var]
                    cr,
                    creator_id=creator_id,
                    share=cr.share * bp / FULL_BP,
                    revenue=amount,
                    collab_id=c.id,
                )
            )
    return out
