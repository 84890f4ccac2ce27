"""Every error the tracker raises on purpose, and the one HTTP status each maps to.

    TrackerError
    ├── SettingsError        start-up: a missing, misspelt or bad setting (exit 2)
    └── HTTPError            carries ``status`` and a short ``reason``
        ├── BadRequest            400  malformed JSON, bad query
        ├── Unauthorized          401  no / bad token, bad signature
        ├── Forbidden             403  authenticated but not allowed
        ├── NotFound              404  unknown id, slug or shop
        ├── Conflict              409  duplicate slug, handle or code
        ├── Gone                  410  disabled or expired link
        ├── PayloadTooLarge       413  body over TRACKER_MAX_BODY_BYTES
        ├── Unprocessable         422  well-formed but invalid (hostile destination...)
        └── TooManyRequests       429  rate limited (carries retry_after)

Handlers raise these; ``tracker.app`` turns them into ``{"error": ..., "detail": ...}``
responses in one place. Anything else is a bug and becomes a logged 500.
"""

from __future__ import annotations

from typing import Any


class TrackerError(Exception):
    """Base of every deliberate error."""


class SettingsError(TrackerError):
    """A setting is missing, misspelt or invalid; the message is one line for the operator."""


class HTTPError(TrackerError):
    status = 500
    code = "error"

    def __init__(self, reason: str, *, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "detail": self.reason}
        if self.details is not None:
            out["errors"] = self.details
        return out


class BadRequest(HTTPError):
    status, code = 400, "bad_request"


class Unauthorized(HTTPError):
    status, code = 401, "unauthorized"


class Forbidden(HTTPError):
    status, code = 403, "forbidden"


class NotFound(HTTPError):
    status, code = 404, "not_found"


class Conflict(HTTPError):
    status, code = 409, "conflict"


class Gone(HTTPError):
    status, code = 410, "gone"


class PayloadTooLarge(HTTPError):
    status, code = 413, "payload_too_large"


class Unprocessable(HTTPError):
    status, code = 422, "unprocessable"


class TooManyRequests(HTTPError):
    status, code = 429, "too_many_requests"

    def __init__(self, reason: str, *, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
