"""Post-purchase survey answers ("How did you hear about us?") matched to creators: the halo.

An answer names a creator when (a) it holds ``@handle`` of a known creator, exactly (score
100), or (b) one of its words, two adjacent words run together, or the whole answer is within
``TRACKER_SURVEY_MIN_SCORE`` (rapidfuzz ``ratio``, 0-100) of a creator's handle (without the
``@``, dots and underscores) or of their name (the whole answer only when it has at most four
words). Two creators tied at the best score: no match (ambiguous). Words under 3 letters and
numbers alone are not compared (too many accidental matches).

A survey match is a *weak, flagged* touch: it never changes the tracked winner. With
``TRACKER_SURVEY_CREDIT=unattributed`` the reports credit an order that nothing else
explains to the creator its survey names (method ``survey``); the commission ledger never
pays on it.

Matching runs at read time (creators added later still match old answers), once per distinct
answer and once per distinct word: rapidfuzz compares in C++ (0.03 us per pair in
``process.extract`` against 31 us for difflib's ``SequenceMatcher.ratio``), so 24,000
answers against 500 creators took 2.1 s on the bench machine at load average 5.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from tracker.reports import roi
from tracker.store.engine import Row

if TYPE_CHECKING:
    from tracker.reports.build import Facts, Params
    from tracker.store import Store

MIN_WORD = 3
_HANDLE = re.compile(r"@([\w.]{2,64})")
_WORD = re.compile(r"[^\w]+")


def squash(text: str) -> str:
    """Lower case, no ``@``, dots or underscores: how handles are compared."""
    return re.sub(r"[@._\s]+", "", text.lower())


@dataclass(frozen=True)
class Match:
    creator_id: str
    score: float
    via: str  # "@handle", "handle" or "name"


class Matcher:
    """Creators' handles and names, and the answers already matched (a cache per answer)."""

    def __init__(self, creators: list[Row], min_score: int) -> None:
        self.min_score = min_score
        self.by_handle = {str(c["handle"]).lower().lstrip("@"): c["id"] for c in creators}
        self.keys: list[str] = []
        self.owners: list[tuple[str, str]] = []  # (creator_id, via) per key
        for c in creators:
            for key, via in (
                (squash(str(c["handle"])), "handle"),
                (squash(c["name"] or ""), "name"),
            ):
                if len(key) >= MIN_WORD:
                    self.keys.append(key)
                    self.owners.append((c["id"], via))
        self._cache: dict[str, Match | None] = {}
        self._words: dict[str, list[tuple[str, float, str]]] = {}

    def match(self, answer: str | None) -> Match | None:
        if not answer:
            return None
        key = " ".join(answer.lower().split())
        if key not in self._cache:
            self._cache[key] = self._match(key)
        return self._cache[key]

    def _match(self, text: str) -> Match | None:
        for handle in _HANDLE.findall(text):
            found = self.by_handle.get(handle.lower().rstrip("."))
            if found:
                return Match(found, 100.0, "@handle")
        words = [w for w in _WORD.split(text.replace("@", " ")) if w]
        queries = {squash(w) for w in words if not w.isdigit()}  # a number alone names nobody
        queries |= {squash(a + b) for a, b in itertools.pairwise(words)}
        if len(words) <= 4:  # a handle typed as words ("glow with sarah"); not a sentence
            queries.add(squash("".join(words)))
        best: dict[str, tuple[float, str]] = {}
        for q in queries:
            for creator_id, score, via in self._near(q):
                if score > best.get(creator_id, (-1.0, ""))[0]:
                    best[creator_id] = (score, via)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        if len(ranked) > 1 and ranked[1][1][0] == ranked[0][1][0]:
            return None  # two creators equally close: ambiguous
        creator_id, (score, via) = ranked[0]
        return Match(creator_id, round(score, 1), via)

    def _near(self, query: str) -> list[tuple[str, float, str]]:
        """Creators whose handle or name is within the score of one query word (cached: the
        same words, "instagram", "tiktok", come back in thousands of answers)."""
        if len(query) < MIN_WORD or not self.keys:
            return []
        if query not in self._words:
            self._words[query] = [
                (self.owners[i][0], float(score), self.owners[i][1])
                for _, score, i in process.extract(
                    query, self.keys, scorer=fuzz.ratio, score_cutoff=self.min_score, limit=5
                )
            ]
        return self._words[query]


async def matcher(store: Store, min_score: int) -> Matcher:
    return Matcher(await store.survey_names(), min_score)


async def add_survey_touches(store: Store, p: Params, facts: Facts) -> None:
    """``TRACKER_SURVEY_CREDIT=unattributed``: an order nothing else explains becomes a
    ``survey`` touch of the creator its answer names (and leaves the unattributed list)."""
    m = await matcher(store, p.survey_min_score)
    unexplained = {o["id"]: o for o in facts.unattributed}
    kept = []
    for row in await store.survey_answers(p.start_at, p.end_at):
        found = m.match(row["survey_answer"]) if row["id"] in unexplained else None
        if found is None or not int(row["counted"]):
            continue
        unexplained.pop(row["id"])
        kept.append(
            {
                "order_id": row["id"],
                "method": "survey",
                "creator_id": found.creator_id,
                "link_id": None,
                "campaign_id": None,
                "code": None,
                "at": row["placed_at"],
                "winner": 1,
                "confidence": None,
                "placed_at": row["placed_at"],
                "net_minor": row["net_minor"],
                "currency": row["currency"],
                "new_customer": 0,
                "customer_hash": None,
                "counted": 1,
            }
        )
    facts.touches = facts.touches + kept
    facts.unattributed = [o for o in facts.unattributed if o["id"] in unexplained]


async def report(store: Store, p: Params, min_score: int) -> dict[str, Any]:
    """Survey-claimed versus tracked creators over the report range.

    Per creator: orders whose survey names them (``claimed``), of which tracked to them too
    (``confirmed``), tracked to another creator (``tracked_elsewhere``) or to nobody
    (``untracked``); the halo is ``claimed - confirmed`` (orders the links and codes gave
    someone else or nobody), with its revenue. Answers naming no creator are counted by
    answer (the 20 most common), so a brand sees "instagram" or "podcast" too."""
    # long: one pass over the answers filling four counters; splitting it hides the rule
    m = await matcher(store, min_score)
    creators = {c["id"]: c for c in await store.survey_names()}
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "claimed": 0,
            "confirmed": 0,
            "tracked_elsewhere": 0,
            "untracked": 0,
            "claimed_revenue_minor": 0.0,
            "halo_revenue_minor": 0.0,
        }
    )
    unmatched: Counter[str] = Counter()
    answered = matched = 0
    missing: set[str] = set()
    for o in await store.survey_answers(p.start_at, p.end_at):
        answered += 1
        found = m.match(o["survey_answer"])
        if found is None:
            unmatched[" ".join(str(o["survey_answer"]).lower().split())[:60]] += 1
            continue
        matched += 1
        net = roi.convert(int(o["net_minor"]), o["currency"], p.currency, p.rates)
        if net is None:
            missing.add(o["currency"])
            net = 0
        r = rows[found.creator_id]
        r["claimed"] += 1
        r["claimed_revenue_minor"] += net
        if o["creator_id"] == found.creator_id:
            r["confirmed"] += 1
        else:
            r["halo_revenue_minor"] += net
            r["tracked_elsewhere" if o["creator_id"] else "untracked"] += 1
    out = []
    for creator_id, r in rows.items():
        c = creators.get(creator_id, {})
        halo = r["claimed"] - r["confirmed"]
        out.append(
            {
                "creator_id": creator_id,
                "label": str(c.get("handle", creator_id)),
                **r,
                "claimed_revenue_minor": round(r["claimed_revenue_minor"]),
                "halo_revenue_minor": round(r["halo_revenue_minor"]),
                "halo": halo,
                "halo_pct": round(halo / r["claimed"] * 100, 1) if r["claimed"] else None,
            }
        )
    out.sort(key=lambda r: (-r["claimed"], r["label"]))
    return {
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "currency": p.currency,
        "min_score": min_score,
        "answers": answered,
        "matched": matched,
        "rows": out,
        "unmatched_answers": [{"answer": a, "orders": n} for a, n in unmatched.most_common(20)],
        "unconverted_currencies": sorted(missing - {p.currency}),
    }


async def match_one(store: Store, answer: str, min_score: int) -> dict[str, Any]:
    """What an answer matches (the panel's and the API's "try it")."""
    found = (await matcher(store, min_score)).match(answer)
    if found is None:
        return {"answer": answer, "creator_id": None, "score": None, "via": None}
    return {
        "answer": answer,
        "creator_id": found.creator_id,
        "score": found.score,
        "via": found.via,
    }


async def order_claim(store: Store, answer: str | None, min_score: int) -> dict[str, Any] | None:
    """An order's survey answer as a weak, flagged touch (None without an answer): whom it
    names, how surely, and that it does not decide the winner."""
    if not answer:
        return None
    found = (await matcher(store, min_score)).match(answer)
    creator = await store.get_creator(found.creator_id) if found else None
    return {
        "answer": answer,
        "creator_id": found.creator_id if found else None,
        "creator": creator["handle"] if creator else None,
        "score": found.score if found else None,
        "via": found.via if found else None,
        "weak": True,  # a claim, not a tracked touch: it never changes the winner
    }
