"""Net revenue of an order: the one rule every report and the store read.

net = 0 when the order is cancelled (or marked refunded without refund amounts), else
min(the shop's current total if it gave one, total - refunds), never below 0.

An order *counts* (in orders, AOV, CPA, conversion) unless it is cancelled or fully
refunded: a cancelled order, one marked refunded, or one whose refunds took its net to 0.
An order that was free from the start (total 0) still counts.
"""

from __future__ import annotations


def net_minor(
    total_minor: int, current_total_minor: int | None, refunded_minor: int, status: str
) -> int:
    if status == "cancelled" or (status == "refunded" and refunded_minor == 0):
        return 0
    net = total_minor - refunded_minor
    if current_total_minor is not None:
        net = min(net, current_total_minor)
    return max(0, net)


def counts(total_minor: int, net: int, status: str) -> bool:
    """Does the order count as an order? (``net`` as ``net_minor`` computed it.)"""
    if status in ("cancelled", "refunded"):
        return False
    return not (total_minor > 0 and net <= 0)
