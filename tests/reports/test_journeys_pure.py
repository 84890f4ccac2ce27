"""Survey matching and exposure saturation (issue 20), pure: known answers."""

from __future__ import annotations

import pytest

from tracker.reports.exposure import curves, point, saturation
from tracker.reports.survey import Matcher

CREATORS = [
    {"id": "jane", "handle": "jane.doe", "name": "Jane Doe"},
    {"id": "mike", "handle": "mike_fit", "name": "Mike Johnson"},
    {"id": "sara", "handle": "glowwithsara", "name": "Sara Lee"},
    {"id": "ana", "handle": "ana", "name": ""},
    {"id": "twin1", "handle": "kellyskin", "name": ""},
    {"id": "twin2", "handle": "kellyskim", "name": ""},
]


@pytest.mark.parametrize(
    ("answer", "who"),
    [
        ("@jane.doe", "jane"),
        ("@JANE.DOE!", "jane"),
        ("Jane Doe", "jane"),
        ("jnae doe on tiktok", "jane"),  # transposed letters, two words run together
        ("janedoe", "jane"),
        ("Saw it on @mike_fit's story", "mike"),
        ("mike fit", "mike"),
        ("glow with sarah", "sara"),  # a typo on a three-word handle
        ("GLOWWITHSARA", "sara"),
        ("sara lee's youtube", "sara"),
        ("@ana", "ana"),
        ("Instagram", None),
        ("a friend told me", None),
        ("banana bread recipe", None),  # 'ana' inside a word is not @ana
        ("kellyski", None),  # equally close to two creators: ambiguous, no match
        ("", None),
    ],
)
def test_survey_answers_match_creators(answer: str, who: str | None) -> None:
    found = Matcher(CREATORS, 85).match(answer)
    assert (found.creator_id if found else None) == who


def test_survey_match_reports_how() -> None:
    m = Matcher(CREATORS, 85)
    exact = m.match("thanks @jane.doe")
    assert exact is not None and exact.score == 100 and exact.via == "@handle"
    fuzzy = m.match("jnae doe")
    assert fuzzy is not None and 85 <= fuzzy.score < 100


def _curve(rates: list[float], n: int) -> list[dict[str, object]]:
    return [point(k + 1, n, round(r * n), 0) for k, r in enumerate(rates)]


def test_saturation_at_the_planted_level() -> None:
    # conversion 5%, 15%, 25% with 1, 2, 3 creators met, then flat at 25%: saturates at 3
    got = saturation(_curve([0.05, 0.15, 0.25, 0.25, 0.24, 0.26], 600))
    assert got["level"] == 3 and got["conversion_rate"] == 0.25


def test_no_saturation_while_still_rising() -> None:
    got = saturation(_curve([0.05, 0.10, 0.15, 0.20], 2000))
    assert got["level"] is None and "still rising" in got["reason"]


def test_thin_levels_are_ignored() -> None:
    pts = [*_curve([0.05, 0.15, 0.25, 0.25], 600), point(5, 5, 5, 0)]  # 5 visitors, all bought
    assert saturation(pts)["level"] == 3
    assert saturation(pts[:1])["level"] is None


def test_curves_from_counts() -> None:
    rows = [
        {"tier": "*", "creators": 1, "clicks": 1, "buyer": None, "visitors": 8},
        {"tier": "*", "creators": 1, "clicks": 2, "buyer": "fp1", "visitors": 1},
        {"tier": "*", "creators": 12, "clicks": 10, "buyer": "fp2", "visitors": 1},
        {"tier": "micro", "creators": 1, "clicks": 2, "buyer": "fp1", "visitors": 1},
    ]
    c = curves(rows, {"fp1": 1000.0, "fp2": 500.0})
    one = c["*"]["creators"][0]
    assert (one["visitors"], one["buyers"], one["revenue_minor"]) == (9, 1, 1000)
    assert (
        one["conversion_rate"] == pytest.approx(1 / 9) and one["revenue_per_visitor_minor"] == 111
    )
    assert c["*"]["creators"][1]["label"] == "10+"
    assert [p["level"] for p in c["*"]["clicks"]] == [1, 2, 10]
    assert c["micro"]["creators"][0]["buyers"] == 1


@pytest.mark.parametrize(
    ("key", "survey"),
    [
        ("How did you hear about us?", True),
        ("_hdyhau", True),
        ("heard-from", True),
        ("Where did you hear about us", True),
        ("referral_source", True),
        ("cl_cid", False),
        ("colour", False),
        (None, False),
    ],
)
def test_survey_keys(key: str | None, survey: bool) -> None:
    from tracker.orders.model import is_survey_key

    assert is_survey_key(key) is survey


def test_survey_text_drops_emails_and_phone_numbers() -> None:
    from tracker.orders.model import survey_text

    assert survey_text("  @maya  told me, call +1 (555) 010-9999 or a.b@c.example ") == (
        "@maya told me, call or"
    )
    assert survey_text("x" * 500) == "x" * 120
    assert survey_text("   ") is None and survey_text(None) is None
