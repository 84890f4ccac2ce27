"""Net revenue of an order: the one rule every report and the store read.

net = 0 when the order is cancelled (or marked refunded without refund amounts), else
min(the shop's current total if it gave one, total - refunds), never below 0.
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
