"""Every error the tracker raises on purpose. The domain knows no HTTP statuses: the one
mapping to a status lives in ``tracker.http.errors``.

    TrackerError
    ├── SettingsError        start-up: a missing, misspelt or bad setting (exit 2)
    └── Rejected             a refused input or action; carries a short ``reason``
        ├── BadRequest            malformed JSON, bad query
        ├── Unauthorized          no / bad token, bad signature
        ├── Forbidden             authenticated but not allowed
        ├── NotFound              unknown id, slug or shop
        ├── Conflict              duplicate slug, handle or code
        ├── Gone                  disabled or expired link
        ├── RequestTimeout        body not received within TRACKER_BODY_TIMEOUT
        ├── PayloadTooLarge       body over TRACKER_MAX_BODY_BYTES
        ├── Unprocessable         well-formed but invalid (hostile destination...)
        └── TooManyRequests       throttled (carries retry_after)

Services and the store raise these; anything else is a bug and becomes a logged 500.
"""

from __future__ import annotations

from typing import Any


class TrackerError(Exception):
    """Base of every deliberate error."""


class SettingsError(TrackerError):
    """A setting is missing, misspelt or invalid; the message is one line for the operator."""


class Rejected(TrackerError):
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


class BadRequest(Rejected):
    code = "bad_request"


class Unauthorized(Rejected):
    code = "unauthorized"


class Forbidden(Rejected):
    code = "forbidden"


class NotFound(Rejected):
    code = "not_found"


class Conflict(Rejected):
    code = "conflict"


class Gone(Rejected):
    code = "gone"


class PayloadTooLarge(Rejected):
    code = "payload_too_large"


class RequestTimeout(Rejected):
    code = "request_timeout"


class Unprocessable(Rejected):
    code = "unprocessable"


class TooManyRequests(Rejected):
    code = "too_many_requests"

    def __init__(self, reason: str, *, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
