"""Identifiers: prefixed record ids (portable across engines and nodes) and click ids."""

from __future__ import annotations

import base64
import os
import re
import time

import shortuuid

_SU = shortuuid.ShortUUID()

#: base64url's 64 characters in ASCII order: text made of them sorts like the numbers
#: they encode, while staying within base64url's URL-safe set.
_B64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SORTED = bytes(sorted(_B64URL))
_TO_SORTED = bytes.maketrans(_B64URL, _SORTED)
_ALPHABET = _SORTED.decode("ascii")
#: After the 6-character time prefix: a 3-character counter within the second (262,144 ids
#: a second per process, in order), then 7 random characters.
_RANDOM_CHARS = 7  # 42 random bits per click id
_BLOCK = 21 * 256  # random bytes fetched at once: 7,168 characters, 1,024 click ids


class _ClickIds:
    """Per second: a 6-character time prefix, a 3-character counter, then random characters
    fetched in blocks (one os.urandom per 1,024 clicks, refetched after a fork so two
    workers never share them). One process's ids are strictly increasing, so the primary
    key only ever appends; ids of several nodes interleave within a second."""

    def __init__(self) -> None:
        self._chars = ""
        self._pos = 0
        self._second = -1
        self._prefix = ""
        self._seq = 0

    def next(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._prefix, self._seq = second, _encode(second, 6), 0
        pos = self._pos
        if pos >= len(self._chars):
            raw = base64.urlsafe_b64encode(os.urandom(_BLOCK)).translate(_TO_SORTED)
            self._chars, pos = raw.decode("ascii"), 0
        self._pos = pos + _RANDOM_CHARS
        seq, self._seq = self._seq, self._seq + 1
        a = _ALPHABET
        return f"{self._prefix}{a[seq >> 12 & 63]}{a[seq >> 6 & 63]}{a[seq & 63]}{self._chars[pos : pos + _RANDOM_CHARS]}"

    def forget(self) -> None:
        self._chars, self._pos = "", 0


def _encode(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 64)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


_click_ids = _ClickIds()
os.register_at_fork(after_in_child=_click_ids.forget)


#: A record id's shape (``new_id``), in any case: records are read by id or natural key in
#: one query, so a handle, name, slug or code of this shape would answer to both.
_ID_SHAPE = re.compile(r"^[a-z]{2,3}_[a-z0-9]{22}$", re.IGNORECASE)


def looks_like_id(text: str) -> bool:
    return _ID_SHAPE.match(text) is not None


def new_id(prefix: str) -> str:
    """``cr_3kTMd9yWQ2Fv8h7xNp4bZa``: unique without a sequence, so nodes never collide."""
    return f"{prefix}_{_SU.uuid()}"


def click_id(now: float | None = None) -> str:
    """16 URL-safe characters: Unix seconds in 6, a counter in 3, 42 random bits in 7.

    Unguessable (42 random bits behind each counter value) and in order, so the clicks
    primary key grows at its right edge like the ``at`` index instead of dirtying a random
    B-tree page for every click written: that page was a large share of SQLite's cost.
    Past 262,144 clicks in one second the counter wraps: order is lost, uniqueness is not.
    """
    return _click_ids.next(time.time() if now is None else now)


def slug(length: int = 7) -> str:
    """A short random slug from shortuuid's unambiguous alphabet (no 0/O, 1/l/I)."""
    return _SU.random(length=length)
