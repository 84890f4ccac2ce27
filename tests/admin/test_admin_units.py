"""Pure parts of the admin: password hashing, cookie signing, charts, CSV validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin import imports, passwords
from admin.charts import bar_chart, nice_max
from admin.sessions import Session, Sessions
from tests.conftest import make_settings
from tracker.catalogue.creators import tier_for, tier_range
from tracker.state import AppState


# -- passwords -----------------------------------------------------------------------------
def test_scrypt_hash_verifies_and_is_salted() -> None:
    h1 = passwords.hash_password("correct horse battery")
    h2 = passwords.hash_password("correct horse battery")
    assert h1 != h2 and h1.startswith("scrypt$131072$8$1$")
    assert passwords.verify_password("correct horse battery", h1)
    assert not passwords.verify_password("correct horse batterY", h1)
    assert not passwords.verify_password("x", "not a hash")
    assert not passwords.verify_password("x", "bcrypt$1$2$3$4$5")
    assert not passwords.needs_rehash(h1)
    assert passwords.needs_rehash("scrypt$16384$8$1$aa$bb")


def test_new_password_rules() -> None:
    assert passwords.check_new_password("short") is not None
    assert passwords.check_new_password("x" * 2000) is not None
    assert passwords.check_new_password("twelve chars") is None


@pytest.mark.anyio
async def test_unknown_user_still_costs_a_hash() -> None:
    assert await passwords.verify_async("anything at all", None) is False


# -- cookies and CSRF ----------------------------------------------------------------------
def test_cookie_signature_and_csrf(tmp_path: Path) -> None:
    s = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    sessions = Sessions(s, AppState(s))
    sid = "a" * 43
    value = sessions.cookie_value(sid)
    assert sessions.read_cookie(value) == sid
    assert sessions.read_cookie(value[:-1] + ("x" if value[-1] != "x" else "y")) is None
    assert sessions.read_cookie("b" * 43 + "." + value.split(".")[1]) is None
    assert sessions.read_cookie("short.sig") is None and sessions.read_cookie(None) is None
    other = Sessions(
        make_settings(tmp_path, "sqlite:///y.db", TRACKER_SECRET_KEY="another-secret-" + "y" * 40),
        AppState(s),
    )
    assert other.read_cookie(value) is None  # a cookie is bound to the server key
    sess = Session(sid=sid)
    token = sessions.csrf_token(sess)
    assert sessions.csrf_ok(sess, token)
    assert not sessions.csrf_ok(Session(sid="c" * 43), token)
    assert not sessions.csrf_ok(sess, None) and not sessions.csrf_ok(sess, "")
    assert not sessions.csrf_ok(Session(sid=sid, issue_cookie=True), token)  # no cookie yet


# -- charts --------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**12))
@settings(max_examples=300)
def test_nice_max_covers_value_in_whole_ticks(value: int) -> None:
    top = nice_max(value)
    assert top >= value and top >= 4
    assert top % 4 == 0  # four whole-number steps
    assert top <= max(4, value * 2.5)  # not absurdly loose


def test_chart_has_axes_units_and_escapes_labels() -> None:
    svg = str(
        bar_chart(
            ["2026-11-01", "2026-11-02"],
            [("clicks <all>", [3, 7], "bar-all")],
            unit="clicks per day",
            title="Clicks & more",
        )
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "clicks per day" in svg and "day (UTC" in svg
    assert "Clicks &amp; more" in svg and "&lt;all&gt;" in svg and "<all>" not in svg
    assert 'style="' not in svg  # the CSP forbids inline styles
    ticks = re.findall(r'class="tick"[^>]*>([^<]+)<', svg)
    assert ticks[:5] == ["0", "2", "4", "6", "8"] and "11-01" in ticks and "11-02" in ticks
    assert len(re.findall(r"<rect ", svg)) == 2


def test_a_bar_of_counted_things_reads_in_words() -> None:
    svg = str(
        bar_chart(
            ["2026-11-01", "2026-11-02", "2026-11-03"],
            [(("order (credited)", "orders (credited)"), [1, 2, 1500], "bar-human")],
            unit="orders per day",
            title="Orders",
        )
    )
    tips = re.findall(r"<title>([^<]+)</title></rect>", svg)
    assert tips == [
        "2026-11-01: 1 order (credited)",
        "2026-11-02: 2 orders (credited)",
        "2026-11-03: 1,500 orders (credited)",
    ]


def test_empty_chart_draws() -> None:
    assert "<svg" in bar_chart([], [("x", [], "bar-all")], unit="u", title="t")


# -- tiers ---------------------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**10))
def test_tier_filter_matches_tier_for(followers: int) -> None:
    lo, hi = tier_range(tier_for(followers))
    assert lo is not None and followers >= lo and (hi is None or followers < hi)


# -- CSV import ----------------------------------------------------------------------------
def test_csv_rows_numbered_like_a_spreadsheet() -> None:
    text = (
        "handle,platform,followers,category\n"
        "ok1,instagram,10,food\n"
        "\n"
        "bad handle,instagram,10,food\n"
        "ok2,tiktok,abc,food\n"
        "OK1,youtube,1,x\n"
        "short,row\n"
    )
    p = imports.parse_creators(text, existing=set())
    errors = {r.number: r.errors for r in p.rows if r.errors}
    assert set(errors) == {4, 5, 6, 7}
    assert errors[4][0].startswith("handle:")
    assert errors[5][0].startswith("followers:")
    assert errors[6] == ["handle: 'OK1' is already in row 2"]
    assert errors[7] == ["expected 4 values, found 2"]
    assert not p.ok and p.error_count == 4
    assert [d["handle"] for d in p.valid_data()] == ["ok1"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("name,platform\nx,instagram\n", "'handle' column is required"),
        ("handle,colour\nx,red\n", "unknown column 'colour'"),
        ("handle,handle\nx,y\n", "named twice"),
        ("handle\n", "no data rows"),
        ("handle,name\nx,a\x00b\n", "NUL bytes"),
    ],
)
def test_csv_file_level_errors(text: str, reason: str) -> None:
    p = imports.parse_creators(text)
    assert not p.ok and reason in " ".join(p.errors)


def test_csv_existing_handles_and_at_sign() -> None:
    p = imports.parse_creators("handle\n@Taken\nfree\n", existing={"taken"})
    assert p.rows[0].errors == ["handle: a creator 'Taken' already exists"]
    assert imports.handle_keys("handle\n@Taken\nfree\n") == ["free", "taken"]


def test_csv_decode_refuses_non_utf8() -> None:
    assert imports.decode("\ufeffhandle\n".encode()) == "handle\n"
    with pytest.raises(UnicodeDecodeError):
        imports.decode("caf\xe9".encode("latin-1"))


# -- report tables -------------------------------------------------------------------------
def _table() -> object:
    from admin.tables import Column, Table

    cols = [
        Column("handle", "Creator"),
        Column("revenue", "Revenue", "money"),
        Column("roi", "ROI", "pct"),
        Column("band", "Band", "band"),
        Column("clicks", "Clicks", "int"),
    ]
    rows = [
        {"handle": "b", "revenue": 123456, "roi": 410.0, "band": "moderate", "clicks": 10},
        {"handle": "=cmd()", "revenue": 100, "roi": None, "band": None, "clicks": 3},
        {"handle": "A", "revenue": 999999, "roi": 620.5, "band": "strong", "clicks": 1200},
    ]
    totals = {"handle": "Total", "revenue": 1223555, "roi": 500.0, "band": "", "clicks": 1213}
    return Table(cols, rows, totals, currency="EUR")


def test_report_table_sorts_with_empty_last() -> None:
    t = _table()
    assert [r["handle"] for r in t.sorted("roi", True).rows] == ["A", "b", "=cmd()"]  # type: ignore[attr-defined]
    assert [r["handle"] for r in t.sorted("roi", False).rows] == ["b", "A", "=cmd()"]  # type: ignore[attr-defined]
    assert [r["handle"] for r in t.sorted("handle", False).rows] == ["=cmd()", "A", "b"]  # type: ignore[attr-defined]
    assert t.sorted("nonsense", True) is t  # type: ignore[attr-defined]


def test_report_csv_is_what_the_page_shows() -> None:
    import csv
    import io

    t = _table().sorted("revenue", True)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(t.to_csv())))
    assert rows[0] == ["Creator", "Revenue (EUR)", "ROI", "Band", "Clicks"]
    assert rows[1] == ["A", "9,999.99", "620.5%", "strong", "1,200"]
    assert rows[3] == ["'=cmd()", "1.00", "—", "—", "3"]  # no formula injection
    assert rows[4][0] == "Total" and rows[4][1] == "12,235.55"
    assert [t.cell(r, c) for c in t.columns for r in [t.rows[0]]][:2] == ["A", "9,999.99"]
    assert t.css(t.rows[0], t.columns[3]) == "band-strong"


@given(st.text(max_size=400))
@settings(max_examples=200)
def test_csv_parser_never_raises(text: str) -> None:
    p = imports.parse_creators("handle,name,followers\n" + text)
    assert p.ok == (not p.errors and bool(p.rows) and all(not r.errors for r in p.rows))
    for r in p.rows:
        assert (r.data is None) == bool(r.errors)


# -- the ROI page's table from a report result -------------------------------------------
def test_roi_table_from_report_result() -> None:
    from admin.reports_view import table_for

    result = {
        "dimension": "creator",
        "model": "linear",
        "currency": "USD",
        "rows": [
            {
                "label": "@mia",
                "tier": "micro",
                "platform": "tiktok",
                "clicks": 120,
                "human_clicks": 100,
                "unique_visitors": 80,
                "orders": 2.5,
                "revenue_minor": 50000,
                "new_customers": 1.5,
                "conversion_rate": 3.12,
                "aov_minor": 20000,
                "epc_minor": 500,
                "cost_minor": 10000,
                "cpa_minor": 4000,
                "roas": 5.0,
                "roi_pct": 400.0,
                "band": "strong",
                "engagement_rate": 4.2,
                "value_90d_minor": 1200,
            },
            {
                "label": "@zed",
                "tier": "nano",
                "platform": "instagram",
                "clicks": 5,
                "human_clicks": 5,
                "unique_visitors": 5,
                "orders": 0,
                "revenue_minor": 0,
                "new_customers": 0,
                "conversion_rate": 0,
                "aov_minor": None,
                "epc_minor": 0,
                "cost_minor": 0,
                "cpa_minor": None,
                "roas": None,
                "roi_pct": None,
                "band": None,
                "engagement_rate": None,
                "value_90d_minor": 0,
            },
        ],
        "totals": {
            "label": "ignored",
            "clicks": 125,
            "revenue_minor": 50000,
            "roas": 5.0,
            "band": "strong",
            "orders": 2.5,
        },
        "unattributed": {"orders": 3, "revenue_minor": 7500},
        "unconverted_currencies": ["JPY"],
    }
    t = table_for(result, "creator")
    assert [c.label for c in t.columns][:5] == [
        "Creator",
        "Tier",
        "Platform",
        "Clicks",
        "Human clicks",
    ]
    assert t.totals and t.totals["label"] == "Total"
    assert any("3 orders (75.00 USD)" in n for n in t.notes)
    assert any("JPY" in n for n in t.notes)
    lines = t.to_csv().splitlines()
    # A leading @ is a formula to spreadsheets: quoted as OWASP advises (CSV injection).
    assert lines[0].startswith(
        "Creator,Tier,Platform,Clicks,Human clicks,Unique visitors,Orders,Revenue (USD),"
    )
    assert lines[1].startswith("'@mia,micro,tiktok,120,100,80,2.5,500.00,1.5,3.1%")
    assert "400.0%" in lines[1] and ",strong," in lines[1]
    assert lines[2].startswith("'@zed") and ",—," in lines[2]
    assert lines[3].startswith("Total,—,—,125")
    asc = table_for(result, "creator", sort="clicks", descending=False)
    assert [r["label"] for r in asc.rows] == ["@zed", "@mia"]
    assert [c.key for c in table_for(result, "tier").columns][:2] == ["label", "clicks"]


# -- a count in words ----------------------------------------------------------------------
def test_quantity_says_one_order_and_two_orders() -> None:
    from admin.web import quantity

    assert quantity(1, "order") == "1 order"
    assert quantity(0, "order") == "0 orders"
    assert quantity(2, "click") == "2 clicks"
    assert quantity(1500, "creator") == "1,500 creators"
    assert quantity("1", "row") == "1 row"  # a query parameter, as the template has it
    assert quantity(3, "entry", "entries") == "3 entries"
    assert quantity(1, "entry", "entries") == "1 entry"


def test_templates_print_every_count_with_its_noun_through_quantity() -> None:
    """A number printed before a noun goes through the ``quantity`` filter ('1 orders', '2
    row(s)' were on the panel): no template prints ``{{ n }} orders`` or ``row(s)``."""
    nouns = r"(orders?|clicks?|creators?|rows?|codes?|links?|days?|minutes?|visitors?|periods?)"
    bare = re.compile(r"\}\}\s*(?:</\w+>\s*)*" + nouns + r"\b")
    root = Path(__file__).resolve().parents[2] / "admin" / "templates"
    found = []
    for path in sorted(root.glob("*.html")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in re.finditer(r"\{\{[^}]*\}\}[^{]*", line):
                # a label such as "5+" keeps its own plural ({{ 's' if level != 1 }})
                own_plural = line[m.end() :].startswith("{{ 's' if")
                text = m.group(0)
                if (bare.match(text[text.index("}}") :]) and not own_plural) or "(s)" in text:
                    found.append(f"{path.name}:{n}: {text[:80]}")
    assert not found, "\n".join(found)
