"""Shops: signing secrets, pixel tokens and the postback URLs to paste into each platform.

Secrets are shown once, in the answer that creates (or rotates) them; never again, never in
logs. A generic shop signs by the Standard Webhooks convention, so its secret must be a
``whsec_<base64>`` key of at least 16 bytes. The API, the CLI and the panel all create and
rotate through ``create`` and ``rotate`` here.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from tracker.core.errors import Unprocessable
from tracker.store import Store
from tracker.store.engine import Row


def new_secret(platform: str) -> str:
    if platform == "generic":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def check_secret(platform: str, secret: str) -> str:
    """The one rule for a shop's signing secret (API, CLI, panel, rotation)."""
    if not 16 <= len(secret) <= 512:
        raise Unprocessable("secret: 16 to 512 characters")
    if platform != "generic":
        return secret
    raw = secret.removeprefix("whsec_")
    try:
        if len(base64.b64decode(raw + "==", validate=False)) < 16:
            raise ValueError
    except (binascii.Error, ValueError):
        raise Unprocessable(
            "secret: generic shops need a whsec_<base64> secret (>= 16 bytes)"
        ) from None
    return secret


def present(row: Row, base_url: str) -> Row:
    return {
        **row,
        "postback_url": f"{base_url}/postbacks/{row['platform']}/{row['slug']}",
        "pixel_url": f"{base_url}/postbacks/pixel/{row['slug']}?token=PIXEL_TOKEN&order_id=..."
        "&amount=...&currency=...&click_id=...",
    }


async def create(store: Store, data: dict[str, Any]) -> tuple[Row, dict[str, str]]:
    """Create a shop; return it and the secrets to show once (``secret``, ``pixel_token``)."""
    data = dict(data)
    data["secret"] = check_secret(
        str(data["platform"]), str(data.get("secret") or new_secret(str(data["platform"])))
    )
    data["pixel_token"] = secrets.token_urlsafe(24)
    row = await store.create_shop(data)
    return row, {"secret": data["secret"], "pixel_token": data["pixel_token"]}


async def rotate(store: Store, ref: str, typed: str | None) -> tuple[Row, str]:
    """A new signing secret; the previous one keeps verifying until the next rotation.
    Shopify chooses its own, so for Shopify the new one must be given."""
    shop = await store.get_shop(ref)
    if not typed and shop["platform"] == "shopify":
        raise Unprocessable("secret: paste the new signing secret Shopify shows")
    secret = check_secret(str(shop["platform"]), typed or new_secret(str(shop["platform"])))
    return await store.update_shop(shop["id"], {"secret": secret}), secret
