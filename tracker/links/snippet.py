"""The storefront snippet: a small script the brand pastes into its theme that keeps the
click id from the landing URL in a first-party cookie for the lookback window and writes it
into the cart's attributes (``/cart/update.js``, ``attributes[cl_cid]``), so it reaches the
Shopify order's ``note_attributes`` (read by ``tracker/orders/sources/shopify.py``) even when
the shopper browses away from the landing page first.

The file never changes under its URL (a new behaviour is a new ``-vN`` file), so its
subresource-integrity hash is stable: the panel shows the tag with it. Settings that differ
per installation (the click id parameter, the days to keep it) are ``data-`` attributes
of the tag, not part of the file.
"""

from __future__ import annotations

import base64
import hashlib
import html
from functools import cache
from pathlib import Path

from tracker.settings import Settings

NAME = "creatorlink-v1.js"
PATH = f"/static/{NAME}"
FILE = Path(__file__).with_name("static") / NAME


@cache
def body() -> bytes:
    return FILE.read_bytes()


@cache
def integrity() -> str:
    """``sha384-...`` of the served bytes (the value of the ``integrity`` attribute)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(body()).digest()).decode()


def tag(settings: Settings) -> str:
    """The ``<script>`` tag to paste into the theme's ``<head>`` (layout/theme.liquid)."""
    attrs = {
        "src": settings.base_url + PATH,
        "integrity": integrity(),
        "crossorigin": "anonymous",
        "data-param": settings.click_id_param,
        "data-days": str(settings.lookback_click_days or 1),
    }
    inner = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
    return f"<script {inner} defer></script>"
