"""Parsers of setting values: text from the environment in, a typed value out or a
``ValueError`` whose message ``tracker.settings`` turns into one line for the operator."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from tracker.core import money


def boolean(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true/false")


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip())
        if not lo <= value <= hi:
            raise ValueError(f"expected an integer in {lo}..{hi}")
        return value

    return parse


def float_range(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not lo <= value <= hi:
            raise ValueError(f"{raw} is not within {lo}..{hi}")
        return value

    return parse


def choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value

    return parse


def hosts(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower().rstrip(".") for h in raw.split(",") if h.strip())
    for host in hosts:
        if "/" in host or ":" in host or " " in host:
            raise ValueError(f"{host!r} is not a bare host name")
    return hosts


def header_names(raw: str) -> tuple[str, ...]:
    """Comma-separated HTTP header names; ``none`` for none."""
    if raw.strip().lower() == "none":
        return ()
    names = tuple(h.strip() for h in raw.split(",") if h.strip())
    for name in names:
        if not all(c.isalnum() or c == "-" for c in name):
            raise ValueError(f"{name!r} is not a header name")
    return names


def networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in raw.split(",") if n.strip())


def base_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an absolute http(s) URL")
    return raw.strip().rstrip("/")


def database_url(raw: str) -> str:
    value = raw.strip()
    if value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return value
    raise ValueError("expected sqlite:///PATH or postgresql://...")


def param_name(raw: str) -> str:
    value = raw.strip()
    if not value or not all(c.isalnum() or c in "_-" for c in value):
        raise ValueError("expected letters, digits, _ or -")
    return value


def currency(raw: str) -> str:
    """A currency the operator chooses: one of ``money.CURRENCIES`` (the typed rule)."""
    value = raw.strip().upper()
    if value not in money.CURRENCIES:
        raise ValueError("expected an ISO 4217 currency such as USD")
    return value


def rates(raw: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        code, sep, rate = part.partition("=")
        value = float(rate) if sep else 0.0
        if not sep or value <= 0 or value != value or value == float("inf"):
            raise ValueError(f"{part.strip()!r}: expected CODE=positive number")
        code = code.strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():  # any a shop may send
            raise ValueError(f"{part.strip()!r}: expected CODE=positive number")
        out[code] = value
    return out


def tiers(raw: str) -> tuple[tuple[str, int], ...]:
    pairs = []
    for part in raw.split(","):
        name, sep, minimum = part.strip().partition("=")
        if not sep or not name.strip().isidentifier() or not minimum.strip().isdigit():
            raise ValueError(f"{part.strip()!r}: expected name=minimum_followers")
        pairs.append((name.strip(), int(minimum)))
    if not pairs or min(m for _, m in pairs) != 0:
        raise ValueError("one tier must start at 0 followers")
    return tuple(sorted(pairs, key=lambda p: -p[1]))


def text(raw: str) -> str:
    return raw.strip()
