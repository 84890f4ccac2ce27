"""Identifiers: prefixed record ids (portable across engines and nodes) and click ids."""

from __future__ import annotations

import base64
import os

import shortuuid

_SU = shortuuid.ShortUUID()


def new_id(prefix: str) -> str:
    """``cr_3kTMd9yWQ2Fv8h7xNp4bZa``: unique without a sequence, so nodes never collide."""
    return f"{prefix}_{_SU.uuid()}"


def click_id() -> str:
    """16 URL-safe characters from 96 random bits: unguessable, cheap on the hot path."""
    return base64.urlsafe_b64encode(os.urandom(12)).decode("ascii")


def slug(length: int = 7) -> str:
    """A short random slug from shortuuid's unambiguous alphabet (no 0/O, 1/l/I)."""
    return _SU.random(length=length)
