"""Secrets in URLs never reach an access log: the pixel token and the creator page token.

Shops that can only fire a URL put the pixel token in its query (``?token=...``), and a
creator's page is ``/c/{token}``. Both would be written in clear by uvicorn's (or
granian's) access log; one ``logging.Filter`` on those loggers rewrites the record first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_QUERY = re.compile(r"([?&](?:token|access_token|secret)=)[^&\s\"]*", re.IGNORECASE)
_CREATOR_PAGE = re.compile(r"(/c/)[A-Za-z0-9_\-]{8,}")
ACCESS_LOGGERS = ("uvicorn.access", "granian.access")


def redact(text: str) -> str:
    """``/postbacks/pixel/s?token=abc&x=1`` -> ``/postbacks/pixel/s?token=***&x=1``."""
    if "token" not in text.lower() and "secret" not in text.lower() and "/c/" not in text:
        return text
    return _CREATOR_PAGE.sub(r"\1***", _QUERY.sub(r"\1***", text))


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return True


FILTER = RedactTokens()


def redact_access_logs() -> None:
    """Attach the filter to the servers' access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
