"""Signing deliveries by the Standard Webhooks convention, with the ``standardwebhooks``
package (the same one that verifies our incoming generic postbacks).

Headers: ``webhook-id`` (the event id), ``webhook-timestamp`` (Unix seconds of this attempt)
and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``. The body bytes
are the same on every attempt; the timestamp and so the signature are fresh each time, so a
receiver's 5-minute tolerance never rejects a late retry.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (192 bits), as the convention's SDKs expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def headers(secret: str, event_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    return {
        "content-type": "application/json",
        "user-agent": "Creatorlink-Webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }
