"""The attribution rules as pure functions (tracker/attribution, tracker/orders/net.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.attribution.precision import estimate
from tracker.attribution.rules import Touch, best_of, choose_winner
from tracker.attribution.touches import (
    OrderSignals,
    confidence,
    fingerprint_touches,
    within_lookback,
)
from tracker.orders.net import counts, net_minor

PLACED = "2026-06-10T12:00:00.000000Z"


def click(id_: str, at: str, creator: str, ip_tag: str | None, lang: str | None) -> dict[str, Any]:
    return {
        "id": id_,
        "at": at,
        "creator_id": creator,
        "link_id": f"lk_{creator}",
        "campaign_id": None,
        "fingerprint": "fp",
        "ip_tag": ip_tag,
        "lang_tag": lang,
    }


def test_lookback_windows_and_future_skew() -> None:
    assert within_lookback("code", "2020-01-01T00:00:00.000000Z", PLACED, 30, 7)
    assert within_lookback("click", "2026-05-11T12:00:00.000000Z", PLACED, 30, 7)  # 30 days
    assert not within_lookback("click", "2026-05-11T11:59:59.000000Z", PLACED, 30, 7)
    assert within_lookback("fingerprint", "2026-06-03T12:00:00.000000Z", PLACED, 30, 7)
    assert not within_lookback("fingerprint", "2026-06-03T11:00:00.000000Z", PLACED, 30, 7)
    assert within_lookback("click", "2026-06-10T13:00:00.000000Z", PLACED, 30, 7)  # skew 1 h
    assert not within_lookback("click", "2026-06-10T13:00:01.000000Z", PLACED, 30, 7)


def test_confidence_table_and_crowding() -> None:
    assert confidence(True, True, 5) == 0.95  # an exact address is not crowded
    assert confidence(True, False, 1) == 0.85
    assert confidence(False, True, 1) == 0.6
    assert confidence(False, False, 3) == 0.15


def test_exact_address_beats_block_and_language_mismatch_is_no_match() -> None:
    o = OrderSignals(PLACED, fingerprint="fp", ip_tag="aaaa", lang_tag="en")
    rows = [  # latest first, as the store reads them
        click("c3", "2026-06-10T11:00:00.000000Z", "maya", "bbbb", "en"),
        click("c2", "2026-06-10T10:00:00.000000Z", "cara", "aaaa", "de"),  # other language
        click("c1", "2026-06-10T09:00:00.000000Z", "bob", "aaaa", "en"),
    ]
    touches = fingerprint_touches(o, rows, 0.3)
    assert [(t.creator_id, t.confidence, t.matched) for t in touches] == [("bob", 0.95, True)]
    block_only = OrderSignals(PLACED, fingerprint="fp", ip_tag="cccc", lang_tag=None)
    touches = fingerprint_touches(block_only, rows, 0.3)
    # no language on the order (WooCommerce): every click of the block may match, crowded by 2
    assert [(t.creator_id, t.confidence) for t in touches] == [
        ("bob", 0.225),
        ("cara", 0.225),
        ("maya", 0.225),
    ]
    assert not any(t.matched for t in touches)
    assert all("below the minimum 0.30" in t.note for t in touches)


def test_winner_policy_is_the_same_everywhere() -> None:
    code = Touch("code", PLACED, "maya", code="MAYA10")
    clk = Touch("click", "2026-06-09T00:00:00.000000Z", "bob", click_id="c1")
    fp = Touch("fingerprint", "2026-06-10T11:00:00.000000Z", "cara", click_id="c2")
    key = lambda t: (t.method, t.at)  # noqa: E731
    assert best_of([code, clk, fp], "code", key) is code
    assert best_of([code, clk, fp], "click", key) is clk
    assert best_of([fp, clk], "code", key) is clk  # a click id beats a later fingerprint
    marked, why = choose_winner([code, clk], "click")
    assert next(t for t in marked if t.winner).creator_id == "bob"
    assert "policy=click" in why and "outranked: code MAYA10 -> maya" in why


def test_unattributed_explanation_repeats_each_touch_note() -> None:
    t = Touch(
        "click",
        PLACED,
        "maya",
        click_id="c9",
        matched=False,
        note="click outside the 30-day lookback",
    )
    u = Touch("code", PLACED, code="NOPE", matched=False, note="unknown code")
    _, why = choose_winner([t, u])
    assert why == (
        "unattributed: click c9 -> maya (click outside the 30-day lookback); "
        "code NOPE -> nobody (unknown code)"
    )


@pytest.mark.parametrize(
    ("total", "current", "refunded", "status", "net", "counted"),
    [
        (10000, None, 0, "paid", 10000, True),
        (10000, None, 2500, "partially_refunded", 7500, True),
        (10000, 5000, 2500, "partially_refunded", 5000, True),  # the shop's current total
        (10000, None, 10000, "partially_refunded", 0, False),  # refunds took it to 0
        (10000, None, 0, "refunded", 0, False),  # marked refunded without amounts
        (10000, None, 0, "cancelled", 0, False),
        (10000, None, 12000, "paid", 0, False),  # never below 0
        (0, None, 0, "paid", 0, True),  # free from the start: still an order
    ],
)
def test_net_revenue_and_counted(
    total: int, current: int | None, refunded: int, status: str, net: int, counted: bool
) -> None:
    assert net_minor(total, current, refunded, status) == net
    assert counts(total, net, status) is counted


def test_precision_estimate_by_band() -> None:
    checks = [
        {"fp_check": "same", "fp_check_confidence": 0.95},
        {"fp_check": "same", "fp_check_confidence": 0.85},
        {"fp_check": "other", "fp_check_confidence": 0.6},
        {"fp_check": "same", "fp_check_confidence": 0.3},
    ]
    got = estimate(checks)
    assert got["orders"] == 4 and got["same_creator"] == 3 and got["precision_pct"] == 75.0
    assert [b["precision_pct"] for b in got["by_confidence"]] == [100.0, 0.0, 100.0]
    assert estimate([])["precision_pct"] is None
