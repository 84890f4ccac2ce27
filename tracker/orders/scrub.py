"""Raw postback bodies without personal data: what is kept for audit and re-processing.

A delivery's body is kept (``TRACKER_RETENTION_RAW_BODY_DAYS``) so an order can be checked
or re-read later, but the customer's e-mail, name, address, phone and IP have no business
there. ``scrub`` runs *after* the source has parsed the body (so the order's fingerprint
and customer hash are derived from the real values, exactly as before) and *before* the
body is written:

- e-mails (by key, and any string value that looks like one) become the same keyed hash
  the order keeps (``customer_hash``), so a body can still be tied to its customer;
- names, street addresses, post codes, cities, phones, coordinates, free-text notes and
  IP addresses are dropped; inside a customer or address object every ``name`` goes too;
- everything re-processing needs stays: ids, money, currency, status, codes, line items,
  landing site, note attributes (click ids), user agent and accept-language.

JSON bodies are rewritten (compact); a query string (the pixel) is filtered by the same
keys; anything else that is neither is replaced by a marker (no way to know what it holds).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: Dropped wherever they appear.
DROP = frozenset(
    {
        "first_name",
        "last_name",
        "middle_name",
        "full_name",
        "phone",
        "phone_number",
        "address",
        "address1",
        "address2",
        "address_1",
        "address_2",
        "street",
        "company",
        "zip",
        "postcode",
        "postal_code",
        "city",
        "latitude",
        "longitude",
        "browser_ip",
        "client_ip",
        "customer_ip_address",
        "ip",
        "ip_address",
        "note",
        "customer_note",
        "birthday",
        "date_of_birth",
    }
)
#: Replaced by a keyed hash wherever they appear.
HASH = frozenset({"email", "contact_email", "customer_email", "billing_email"})
#: Objects about a person: every ``name`` in them is dropped as well.
PERSONAL = frozenset(
    {
        "customer",
        "billing",
        "shipping",
        "billing_address",
        "shipping_address",
        "default_address",
        "addresses",
        "client_details",
        "destination",
    }
)
_EMAIL = re.compile(r"[^\s@\"<>]{1,64}@[^\s@\"<>]{1,255}\.[A-Za-z]{2,}")
NOT_JSON = "[body removed: not JSON, may hold personal data]"


def email_hash(secret: str, email: str) -> str:
    """The keyed hash orders keep as ``customer_hash`` (``tracker.orders.ingest``)."""
    mac = hmac.new(secret.encode(), b"customer:" + email.strip().lower().encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def _value(secret: str, value: Any) -> Any:
    if isinstance(value, str) and "@" in value and _EMAIL.search(value):
        return _EMAIL.sub(lambda m: "hmac:" + email_hash(secret, m.group(0)), value)
    return value


def _walk(secret: str, node: Any, personal: bool) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            low = str(key).lower()
            if low in DROP or (personal and low == "name"):
                continue
            if low in HASH and isinstance(value, str):
                out[key] = "hmac:" + email_hash(secret, value) if value else value
                continue
            out[key] = _walk(secret, value, personal or low in PERSONAL)
        return out
    if isinstance(node, list):
        return [_walk(secret, v, personal) for v in node]
    return _value(secret, node)


def scrub(body: str | None, secret: str) -> str | None:
    """The body without personal data (see the module docstring); None stays None."""
    if not body:
        return body
    text = body.strip()
    if text[:1] in ("{", "["):
        try:
            data = json.loads(text)
            clean = _walk(secret, data, False)
        except (ValueError, RecursionError):
            return NOT_JSON
        return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
    if "=" in text and " " not in text and "\n" not in text:  # a query string (the pixel)
        pairs = parse_qsl(text, keep_blank_values=True)
        kept = [
            (k, "hmac:" + email_hash(secret, v) if k.lower() in HASH else str(_value(secret, v)))
            for k, v in pairs
            if k.lower() not in DROP and k.lower() != "name"
        ]
        return urlencode(kept, safe="*:")
    return NOT_JSON
