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

import orjson

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


#: What ``_walk`` does with a key: keep it, drop it, hash its value, treat its object as
#: about a person, or (``name``) drop it inside such an object. Decided once per distinct
#: key (a Shopify order repeats ~100 keys 745 times): a bounded cache of short keys.
_KEEP, _DROP, _HASH, _PERSONAL, _NAME = range(5)
_ACTIONS: dict[str, int] = {}


def _action(key: Any) -> int:
    low = key.lower() if type(key) is str else str(key).lower()
    if low in DROP:
        act = _DROP
    elif low in HASH:
        act = _HASH
    elif low in PERSONAL:
        act = _PERSONAL
    else:
        act = _NAME if low == "name" else _KEEP
    if type(key) is str and len(key) <= 64 and len(_ACTIONS) < 4096:
        _ACTIONS[key] = act
    return act


def _walk(secret: str, node: Any, personal: bool) -> Any:
    """One pass over the parsed body; leaves are handled in their parent's loop (a Shopify
    order has ~700 nodes: a call per leaf was most of the scrub's cost)."""
    if type(node) is dict:
        out: dict[str, Any] = {}
        actions = _ACTIONS
        for key, value in node.items():
            act = actions.get(key)
            if act is None:
                act = _action(key)
            if act == _DROP or (personal and act == _NAME):
                continue
            kind = type(value)
            if kind is dict or kind is list:
                out[key] = _walk(secret, value, personal or act == _PERSONAL)
            elif kind is str:
                if act == _HASH:
                    out[key] = "hmac:" + email_hash(secret, value) if value else value
                elif "@" in value:
                    out[key] = _value(secret, value)
                else:
                    out[key] = value
            else:
                out[key] = value
        return out
    if type(node) is list:
        return [
            _walk(secret, v, personal) if type(v) in (dict, list) else _value(secret, v)
            for v in node
        ]
    return _value(secret, node)


def _load(text: str) -> Any:
    """orjson where it can (5x the standard library); the standard library for what orjson
    refuses (integers beyond 64 bits, NaN), so the same bodies are kept as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _dump(data: Any) -> str:
    try:
        return orjson.dumps(data).decode()
    except TypeError:  # an integer beyond 64 bits, NaN: the standard library writes them
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def scrub(body: str | None, secret: str, doc: Any = None) -> str | None:
    """The body without personal data (see the module docstring); None stays None.

    ``doc``: the body already parsed from JSON (the postback sources parse it once)."""
    if not body:
        return body
    text = body.strip()
    if text[:1] in ("{", "["):
        try:
            clean = _walk(secret, _load(text) if doc is None else doc, False)
        except (ValueError, RecursionError):
            return NOT_JSON
        return _dump(clean)
    if "=" in text and " " not in text and "\n" not in text:  # a query string (the pixel)
        pairs = parse_qsl(text, keep_blank_values=True)
        kept = [
            (k, "hmac:" + email_hash(secret, v) if k.lower() in HASH else str(_value(secret, v)))
            for k, v in pairs
            if k.lower() not in DROP and k.lower() != "name"
        ]
        return urlencode(kept, safe="*:")
    return NOT_JSON
