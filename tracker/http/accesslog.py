"""The access log (``tracker serve --access-log``): one line per request, the same on
uvicorn and granian, with secrets and personal data left out; and the same rule applied to
the servers' own access loggers (``uvicorn.access``, ``granian.access``), should someone run
the app under a server with its access log on.

Written: method, path and query with secret values replaced by ``***``, status, duration.
Never written: the client address (no raw IPs in logs), the creator-page token in
``/c/{token}``, and the value of any query parameter named like a credential (the pixel's
``token=``, ``key``, ``secret``, ``signature``, ``password``, ``email`` ...).
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tracker.access")

#: Query parameters whose values are never logged (matched case-insensitively, anywhere in
#: the name: ``access_token``, ``api_key``, ``hmac_sig`` ...).
SECRET_PARAMS = re.compile(
    rb"(?i)(^|[&;])([^=&;]*(token|key|secret|sig|hmac|pass|auth|email|session)[^=&;]*)=([^&;]*)"
)
#: Paths whose tail is a credential: the creator's own page.
SECRET_PATHS = re.compile(r"^(/c/)[^/?]+")


def redact(path: str, query: bytes) -> str:
    """``path?query`` as it may be logged."""
    safe = SECRET_PATHS.sub(r"\1***", path)
    if query:
        q = SECRET_PARAMS.sub(rb"\1\2=***", query).decode("latin-1")
        return f"{safe}?{q}"
    return safe


def redact_target(target: str) -> str:
    """A request target as a server logs it (``/path?query``) -> as it may be logged."""
    path, sep, query = target.partition("?")
    return redact(path, query.encode("latin-1", "replace") if sep else b"")


class ServerLogRedaction(logging.Filter):
    """The servers' access records through ``redact``, and without the client address.

    uvicorn logs ``(client, method, target, version, status)``; granian a dict of atoms
    (``addr``, ``path``, ``query_string``, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3:
            record.args = ("-", args[1], redact_target(str(args[2])), *args[3:])
        elif isinstance(args, dict):
            atoms = dict(args)
            atoms["addr"] = "-"
            query = str(atoms.get("query_string") or "")
            if query:
                atoms["query_string"] = redact_target("?" + query.lstrip("?"))[1:]
            atoms["path"] = redact(str(atoms.get("path", "")), b"")
            record.args = atoms
        return True


SERVER_ACCESS_LOGGERS = ("uvicorn.access", "granian.access")
_FILTER = ServerLogRedaction()


def redact_server_logs() -> None:
    """Attach the filter to the servers' access loggers (idempotent)."""
    for name in SERVER_ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                '"%s %s HTTP/%s" %d %.1fms',
                scope["method"],
                redact(scope["path"], scope.get("query_string", b"")),
                scope.get("http_version", "1.1"),
                status or 500,
                (time.perf_counter() - started) * 1000,
            )
