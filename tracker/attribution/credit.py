"""Credit per attribution model, computed at read time (switching model needs no reprocessing).

``credits`` gives one share per touch of an order, summing to 1; ``by_model`` shows an
order's shares per creator under every model (the order page and ``GET /orders/{id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.attribution import datadriven
from tracker.core import clock

if TYPE_CHECKING:  # the store imports this module: no import back at run time
    from tracker.store.engine import Row

#: Models of one order's touches alone (the order page shows each of them).
ORDER_MODELS = ("last", "first", "linear", "position", "time_decay")
#: Every report's models: data_driven needs the range's paths (``tracker.reports.paths``).
MODELS = (*ORDER_MODELS, "data_driven")


@dataclass(frozen=True)
class Credited:
    """One touch of one order, as the reports read it back from the store."""

    creator_id: str
    at: str
    winner: bool = False
    campaign_id: str | None = None
    link_id: str | None = None
    method: str = "code"


def credits(
    touches: list[Credited],
    model: str,
    order_at: str,
    half_life_days: float = 7.0,
    weights: Mapping[str, float] | None = None,
) -> list[float]:
    """Shares of an order's credit, one per touch, summing to 1 (empty list: no touch).

    last: the winner the conflict policy chose (strongest signal, then latest); first: the
    earliest touch; linear: equal shares; position: 40% first, 40% last, 20% spread over the
    middle (50/50 for two touches); time_decay: halves every ``half_life_days`` before the order;
    data_driven: in proportion to each creator's removal effect (``weights``, from
    ``datadriven.fit``); position-based when there are no weights or none of this order's
    creators has one (the report says how often).
    """
    n = len(touches)
    if n == 0:
        return []
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; one of {', '.join(MODELS)}")
    if n == 1:  # every model gives a lone touch the whole order (most orders: one touch)
        return [1.0]
    if model == "data_driven":
        shares = (
            datadriven.order_shares([t.creator_id for t in touches], weights) if weights else None
        )
        if shares is not None:
            return shares
        model = datadriven.FALLBACK_MODEL
    order = sorted(range(n), key=lambda i: (touches[i].at, i))
    out = [0.0] * n
    if model == "last":
        winners = [i for i in range(n) if touches[i].winner]
        out[winners[0] if winners else order[-1]] = 1.0
    elif model == "first":
        out[order[0]] = 1.0
    elif model == "linear":
        out = [1.0 / n] * n
    elif model == "position":
        if n == 1:
            out[0] = 1.0
        elif n == 2:
            out[order[0]] = out[order[1]] = 0.5
        else:
            out[order[0]] = out[order[-1]] = 0.4
            for i in order[1:-1]:
                out[i] = 0.2 / (n - 2)
    else:
        end = clock.epoch(order_at)
        raw = [0.5 ** (max(0.0, end - clock.epoch(t.at)) / 86400 / half_life_days) for t in touches]
        total = sum(raw)
        out = [r / total for r in raw]
    return out


def split(amount: int, shares: list[float]) -> list[int]:
    """Whole minor units per share, summing exactly to ``amount`` (largest remainder).

    Each share gets the floor of its exact part; the units left over go one by one to the
    largest remainders (ties: the earlier touch). So every model's report rows add up to
    the attributed revenue to the minor unit, in every report and CSV.
    """
    if not shares:
        return []
    if len(shares) == 1 and shares[0] > 0:
        return [amount]
    total = sum(shares)
    if total <= 0:
        return [0] * len(shares)
    sign, amount = (-1, -amount) if amount < 0 else (1, amount)
    exact = [amount * s / total for s in shares]
    out = [int(e) for e in exact]
    left = amount - sum(out)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in by_remainder[:left]:
        out[i] += 1
    return [sign * v for v in out]


def by_model(touches: list[Row], placed_at: str, half_life: float) -> dict[str, Any]:
    """This order's credit per creator under every model (shares sum to 1, or {})."""
    kept = [t for t in touches if t["matched"] and t["creator_id"]]
    objs = [Credited(t["creator_id"], t["at"], bool(t["winner"])) for t in kept]
    who = [t.get("creator_handle") or objs[i].creator_id for i, t in enumerate(kept)]
    out: dict[str, Any] = {}
    for model in ORDER_MODELS:
        shares: dict[str, float] = {}
        for i, share in enumerate(credits(objs, model, placed_at, half_life)):
            shares[who[i]] = round(shares.get(who[i], 0.0) + share, 6)
        out[model] = shares
    return out
