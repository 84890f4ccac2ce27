"""The country of a click, on the redirect path, without storing the address.

Sources, first answer wins:

1. a CDN's country header (``TRACKER_COUNTRY_HEADERS``: ``CF-IPCountry``,
   ``CloudFront-Viewer-Country``, ``X-Vercel-IP-Country``), read **only** when the request
   arrived from a trusted proxy (``TRACKER_TRUSTED_PROXIES``): from anyone else the header
   is the visitor's own claim and is ignored;
2. a MaxMind-format file the user points to (``TRACKER_GEOIP_DATABASE``: GeoLite2-Country,
   DB-IP lite...), read with ``maxminddb`` (memory-mapped);
3. the IP-to-country data that installs with the package (``iptocc``: the five Regional
   Internet Registries' delegations, embedded in the wheel; ``TRACKER_COUNTRY_BUILTIN``).

The answer is an ISO 3166-1 alpha-2 code in upper case or None (a private or loopback
address, an unknown block, a header of ``XX``/``T1``). Only the code is kept; the address
goes no further than this lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tracker.core.errors import SettingsError

log = logging.getLogger("tracker.clicks")

#: CDN values that name no country: unknown (``XX``), Tor (``T1``), and anything else that
#: is not two ASCII letters.
_NOT_COUNTRIES = frozenset({"XX", "ZZ", "T1", "A1", "A2", "O1", "EU", "AP"})


def clean_code(raw: str | bytes | None) -> str | None:
    """Two ASCII letters, upper case, or None."""
    if not raw:
        return None
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    text = text.strip().upper()
    if len(text) != 2 or not ("A" <= text[0] <= "Z" and "A" <= text[1] <= "Z"):
        return None
    return None if text in _NOT_COUNTRIES else text


def _mmdb_reader(path: str) -> Callable[[str], str | None]:
    import maxminddb  # only when a file is configured

    try:
        reader = maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise SettingsError(f"TRACKER_GEOIP_DATABASE: cannot read {path}: {exc}") from None

    def lookup(ip: str) -> str | None:
        try:
            record: Any = reader.get(ip)
        except (ValueError, TypeError):
            return None
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code") if isinstance(country, dict) else None
        return clean_code(code) if isinstance(code, str) else None

    return lookup


def _builtin() -> Callable[[str], str | None]:
    from iptocc import country_code

    def lookup(ip: str) -> str | None:
        try:
            code = country_code(ip)
        except (ValueError, TypeError):
            return None
        return clean_code(code) if isinstance(code, str) else None

    return lookup


class CountryLookup:
    """Settings parsed once; ``country`` costs a dict read for a trusted header and about a
    microsecond for an address (``iptocc``; a MaxMind file a few microseconds)."""

    def __init__(self, headers: tuple[str, ...], database: str, builtin: bool) -> None:
        self.headers = tuple(h.strip().lower().encode("latin-1") for h in headers if h.strip())
        self.sources: list[Callable[[str], str | None]] = []
        self.source_names: list[str] = []
        if database:
            self.sources.append(_mmdb_reader(database))
            self.source_names.append("maxmind-file")
        if builtin:
            self.sources.append(_builtin())
            self.source_names.append("builtin")

    @classmethod
    def from_settings(cls, settings: Any) -> CountryLookup:
        return cls(settings.country_headers, settings.geoip_database, settings.country_builtin)

    def from_headers(self, headers: dict[bytes, bytes]) -> str | None:
        for name in self.headers:
            code = clean_code(headers.get(name))
            if code is not None:
                return code
        return None

    def from_address(self, ip: str) -> str | None:
        for source in self.sources:
            code = source(ip)
            if code is not None:
                return code
        return None

    def country(self, headers: dict[bytes, bytes], via_trusted_proxy: bool, ip: str) -> str | None:
        if via_trusted_proxy and self.headers:
            code = self.from_headers(headers)
            if code is not None:
                return code
        return self.from_address(ip) if ip else None
