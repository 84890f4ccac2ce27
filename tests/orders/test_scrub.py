"""The scrub of raw postback bodies (``tracker.orders.scrub``), rule by rule: what goes,
what is hashed, what stays, whatever the key's case or where it sits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracker.orders.scrub import NOT_JSON, email_hash, scrub

SECRET = "s" * 32
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def clean(data: Any) -> Any:
    out = scrub(json.dumps(data), SECRET)
    assert out is not None
    return json.loads(out)


def h(email: str) -> str:
    return "hmac:" + email_hash(SECRET, email)


def test_dropped_keys_go_in_any_case_and_at_any_depth() -> None:
    data = {
        "First_Name": "Bob",
        "PHONE": "+1 555",
        "order": {"lines": [{"address1": "1 Main St", "sku": "A1"}], "browser_ip": "1.2.3.4"},
    }
    assert clean(data) == {"order": {"lines": [{"sku": "A1"}]}}


def test_emails_are_hashed_by_key_and_inside_any_string() -> None:
    data = {
        "Email": "Bob@Example.com",
        "contact_email": "",
        "email": None,
        "note_attributes": [{"name": "gift for", "value": "ann@example.org please"}],
        "tags": ["vip", "x carl@example.net"],
    }
    out = clean(data)
    assert out["Email"] == h("Bob@Example.com") == h("bob@example.com ")
    assert out["contact_email"] == "" and out["email"] is None
    assert out["note_attributes"] == [
        {"name": "gift for", "value": f"{h('ann@example.org')} please"}
    ]
    assert out["tags"] == ["vip", f"x {h('carl@example.net')}"]


def test_a_name_goes_only_inside_an_object_about_a_person() -> None:
    data = {
        "name": "#1001",
        "line_items": [{"name": "IPod Nano", "properties": []}],
        "customer": {"id": 7, "name": "Bob Norman", "default_address": {"name": "Bob", "id": 3}},
        "Shipping_Address": {"Name": "Bob", "country": "CA"},
    }
    assert clean(data) == {
        "name": "#1001",
        "line_items": [{"name": "IPod Nano", "properties": []}],
        "customer": {"id": 7, "default_address": {"id": 3}},
        "Shipping_Address": {"country": "CA"},
    }


def test_the_same_key_is_judged_the_same_in_every_body() -> None:
    """Keys' decisions are cached: a second body, and keys past the cache's bounds (long,
    numerous), are judged exactly as the first."""
    many = {f"k{i}": i for i in range(5000)}
    long_key = "x" * 100 + "email"
    for _ in range(2):
        out = clean({**many, "ZIP": "90210", long_key: "a@b.example", "billing": {"name": "A"}})
        assert "ZIP" not in out and out[long_key] == h("a@b.example")
        assert out["billing"] == {} and out["k4999"] == 4999


def test_real_payloads_keep_what_reprocessing_needs_and_no_personal_data() -> None:
    for name in ("shopify-order-1001.json", "woocommerce-order-727.json"):
        body = (FIXTURES / name).read_text()
        text = scrub(body, SECRET)
        assert text is not None
        for personal in ("Bob", "Norman", "John", "Doe", "@", "Ottawa", "San Francisco"):
            assert personal not in text.replace("hmac:", ""), (name, personal)
        out = json.loads(text)
        assert out["id"] == json.loads(body)["id"]
        assert ("line_items" in out) and ("currency" in out)


def test_bodies_that_are_not_json_objects() -> None:
    assert scrub("email=a%40b.example&amount=12.50&name=Bob", SECRET) == (
        f"email={h('a@b.example')}&amount=12.50"
    )
    assert scrub("hello bob@example.com", SECRET) == NOT_JSON
    assert scrub("{not json", SECRET) == NOT_JSON
    assert scrub(None, SECRET) is None and scrub("", SECRET) == ""


def test_a_body_parsed_once_scrubs_as_the_text_does() -> None:
    """The sources hand the scrub the JSON they parsed; the result is the text's own."""
    for name in ("shopify-order-1001.json", "woocommerce-order-727.json"):
        body = (FIXTURES / name).read_text()
        assert scrub(body, SECRET, json.loads(body)) == scrub(body, SECRET)
