"""Shops: signing secrets, pixel tokens and the postback URLs to paste into each platform.

The one home for a shop's secrets: the API, the CLI and the panel create, rotate, and turn
the pixel on or off only through the functions here.

- Secrets are shown once, in the answer that creates (or rotates) them; never again, never
  in logs. A generic shop signs by the Standard Webhooks convention, so its secret must be a
  ``whsec_<base64>`` key of at least 16 bytes.
- After a rotation the previous secret keeps verifying for ``TRACKER_SECRET_GRACE_HOURS``
  (default 24) and never after; the shop shows when it stops (``previous_secret_expires_at``).
- The pixel (a GET with a bearer token in its URL, for shops that can only fire a URL on a
  thank-you page) is opt-in: on by default for generic shops, off for Shopify and
  WooCommerce (which sign their webhooks) unless asked for. Its token is shown once and can
  be rotated or revoked; only its SHA-256 is stored; stored ``''`` means the pixel is off.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import timedelta
from typing import Any

from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.orders.sources.pixel import token_digest
from tracker.store import Store
from tracker.store.engine import Row

PIXEL_OFF = ""


def new_secret(platform: str) -> str:
    if platform == "generic":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def new_pixel_token() -> str:
    return secrets.token_urlsafe(24)


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


def previous_secret_expires_at(row: Row, grace_hours: int) -> str | None:
    """When the previous secret stops verifying (None: there is none, or it already has)."""
    rotated = row.get("secret_rotated_at")
    if not row.get("has_previous_secret", row.get("previous_secret")) or not rotated:
        return None
    try:
        until = clock.shift(rotated, timedelta(hours=grace_hours))
    except ValueError:
        return None
    return until if until > clock.now_iso() else None


def verifying_secrets(shop: Row, grace_hours: int) -> list[str]:
    """The secrets a delivery may be signed with now: the current one, and the previous
    one while its grace period lasts."""
    out = [shop["secret"]]
    if shop.get("previous_secret") and previous_secret_expires_at(shop, grace_hours):
        out.append(shop["previous_secret"])
    return [s for s in out if s]


def pixel_enabled(shop: Row) -> bool:
    return bool(shop.get("pixel"))


def present(row: Row, base_url: str, grace_hours: int = 24) -> Row:
    """The shop as shown (API, CLI, panel); idempotent. Store rows never carry secrets
    (``SHOP_PUBLIC``); a secret appears only where the caller adds it to show it once."""
    out = {k: v for k, v in row.items() if k != "has_previous_secret"}
    out["pixel"] = bool(row.get("pixel"))
    if "has_previous_secret" in row or "previous_secret_expires_at" not in row:
        out["previous_secret_expires_at"] = previous_secret_expires_at(row, grace_hours)
    out["postback_url"] = f"{base_url}/postbacks/{row['platform']}/{row['slug']}"
    out["pixel_url"] = (
        f"{base_url}/postbacks/pixel/{row['slug']}?token=PIXEL_TOKEN&order_id=..."
        "&amount=...&currency=...&click_id=..."
        if out["pixel"]
        else None
    )
    return out


async def create(store: Store, data: dict[str, Any]) -> tuple[Row, dict[str, str]]:
    """Create a shop; return it and the secrets to show once (``secret``, and
    ``pixel_token`` when the shop has the pixel)."""
    data = dict(data)
    platform = str(data["platform"])
    data["secret"] = check_secret(platform, str(data.get("secret") or new_secret(platform)))
    pixel = data.pop("pixel", None)
    if pixel is None:
        pixel = platform == "generic"
    token = new_pixel_token() if pixel else PIXEL_OFF
    data["pixel_token"] = token_digest(token) if token else PIXEL_OFF
    row = await store.create_shop(data)
    shown = {"secret": data["secret"]}
    if token:
        shown["pixel_token"] = token
    return row, shown


async def rotate(store: Store, ref: str, typed: str | None) -> tuple[Row, str]:
    """A new signing secret; the previous one keeps verifying for the grace period.
    Shopify chooses its own, so for Shopify the new one must be given."""
    shop = await store.get_shop(ref)
    if not typed and shop["platform"] == "shopify":
        raise Unprocessable("secret: paste the new signing secret Shopify shows")
    secret = check_secret(str(shop["platform"]), typed or new_secret(str(shop["platform"])))
    return await store.rotate_shop_secret(shop["id"], secret), secret


async def set_pixel(store: Store, ref: str, enabled: bool) -> tuple[Row, str | None]:
    """Turn the pixel on with a new token (also how a token is rotated), or off. The new
    token is returned to be shown once; the old one stops working at once."""
    shop = await store.get_shop(ref)
    token = new_pixel_token() if enabled else PIXEL_OFF
    row = await store.set_shop_pixel_token(shop["id"], token_digest(token) if token else PIXEL_OFF)
    return row, token or None


async def update(store: Store, ref: str, fields: dict[str, Any]) -> tuple[Row, dict[str, str]]:
    """A partial update: ``secret`` rotates, ``pixel`` true/false turns the pixel on (a new
    token) or off; the rest are plain fields. Returns the row and what to show once."""
    fields = dict(fields)
    shown: dict[str, str] = {}
    secret = fields.pop("secret", None)
    pixel = fields.pop("pixel", None)
    if secret:
        await rotate(store, ref, str(secret))
        shown["secret"] = str(secret)
    if pixel is not None:
        _, token = await set_pixel(store, ref, bool(pixel))
        if token:
            shown["pixel_token"] = token
    row = await store.update_shop(ref, fields) if fields else await store.get_shop(ref)
    return row, shown
