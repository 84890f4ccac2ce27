"""Click capture: who clicked (device, bot or human, privacy-safe fingerprint), no I/O.

Per request the redirect calls ``ClickCapture.row`` and hands the row to the click writer
(``tracker.clicks.writer``). The redirect does only what costs the same for every visitor
(fingerprint, client address, referrer host, request-level bot signals). What depends on
the user agent (device, OS, browser, previewer and crawler rules: ``tracker.clicks.agents``)
is looked up in a bounded map of recent agents; an agent not in it is described by the
writer just before the batch is stored (``ClickCapture.complete``), so a visitor never
seen before costs the redirect no more than a repeat one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
from collections.abc import Mapping
from functools import lru_cache
from itertools import islice
from typing import Any

from tracker.clicks.agents import Agent, describe
from tracker.clicks.country import CountryLookup
from tracker.clicks.enricher import AgentDescriber
from tracker.settings import Settings

log = logging.getLogger("tracker.clicks")

MAX_UA = 512
MAX_REFERRER_HOST = 255
MAX_LANG = 128
#: Distinct user agents whose description is kept (insertion order: the oldest go first).
AGENTS_KEPT = 16_384
#: Positions of the columns added in 0.4 (migration 0060): the click's country and the
#: targeting rule or A/B variant that chose its destination (the redirect sets it).
COUNTRY = 17
VARIANT = 18
#: Past the stored columns, a row from ``ClickCapture.row`` carries the user agent still to
#: be described (None if it was known) and the client's network (the fingerprint's /24 or
#: /48: the key of the per-client limit on unseen agents; None for a private, loopback or
#: unparsable address, often a proxy not listed in TRACKER_TRUSTED_PROXIES, which must not
#: put every shopper in one bucket). Neither is stored.
PENDING_UA = 19
CLIENT_NET = 20


class AgentMap:
    """Bounded map user agent -> description. No LRU bookkeeping on a hit (the redirect only
    reads it); when full, the oldest insertions go first, so a flood of unique agents costs
    other visitors at most a description in the writer, never memory."""

    def __init__(self, size: int = AGENTS_KEPT) -> None:
        self._size = size
        self._map: dict[str, Agent] = {}
        self.described = 0

    def get(self, ua: str) -> Agent | None:
        return self._map.get(ua)

    def put(self, ua: str, agent: Agent) -> None:
        m = self._map
        if len(m) >= self._size:
            for key in list(islice(m, self._size // 8)):
                del m[key]
        m[ua] = agent

    def describe(self, ua: str) -> Agent:
        agent = self._map.get(ua)
        if agent is None:
            try:
                agent = describe(ua)
            except Exception:  # never lose the click over its description
                log.exception("describing a user agent failed; stored as 'other'")
                agent = ("other", "", "", None)
            self.described += 1
            self.put(ua, agent)
        return agent


class ClickCapture:
    """Turns an ASGI scope into a click row, with settings parsed once."""

    def __init__(self, settings: Settings) -> None:
        # BLAKE2b in keyed mode is a MAC (RFC 7693) like HMAC-SHA256, at a quarter of the
        # cost per click (0.9 vs 3.9 us measured); the key is derived so any length works.
        self._key = hashlib.sha256(
            b"creatorlink fingerprint|" + settings.secret_key.encode()
        ).digest()
        self._trusted = _Networks(settings.trusted_proxies)
        self._v4 = settings.fingerprint_ipv4_prefix
        self._v6 = settings.fingerprint_ipv6_prefix
        self._raw_ip = settings.store_raw_ip
        self.countries = CountryLookup.from_settings(settings)
        self.agents = AgentMap()
        self.describer = AgentDescriber()
        self._octet_tags = [
            hashlib.blake2b(b"ip4|%d" % i, key=self._key, digest_size=2).hexdigest()
            for i in range(256)
        ]

    def fingerprint(self, ip: str, ua: str) -> str:
        """MAC(secret, truncated IP | user agent), 32 hex characters: stable for one visitor,
        not reversible to an address without the secret. The language is kept apart
        (``lang_tag``) so a source that does not send one (WooCommerce) still matches."""
        return self._mac(self.truncate(ip), ua)

    def _mac(self, net: str, ua: str) -> str:
        msg = f"{net}|{ua}".encode("utf-8", "surrogateescape")
        return hashlib.blake2b(msg, key=self._key, digest_size=16).hexdigest()

    def legacy_fingerprint(self, ip: str, ua: str, lang: str) -> str:
        """The 0.3 fingerprint (language inside the MAC), to match clicks stored before 0.4."""
        msg = f"{self.truncate(ip)}|{ua}|{lang}".encode("utf-8", "surrogateescape")
        return hashlib.blake2b(msg, key=self._key, digest_size=16).hexdigest()

    def ip_tag(self, ip: str) -> str:
        """A 16-bit keyed tag of the exact address. It is only ever compared between clicks
        that share a fingerprint (so one /24 block), where it tells addresses apart (1 chance
        in 65,536 to confuse two); it names no address. With the default /24, the last
        octet is all that differs inside a block, so its 256 tags are computed once."""
        if self._v4 == 24 and ip.count(".") == 3 and ":" not in ip:
            last = ip[ip.rfind(".") + 1 :]
            if last.isdigit() and len(last) <= 3 and int(last) < 256:
                return self._octet_tags[int(last)]
        msg = b"ip|" + ip.encode("utf-8", "surrogateescape")
        return hashlib.blake2b(msg, key=self._key, digest_size=2).hexdigest()

    def lang_tag(self, lang: str) -> str | None:
        """A 16-bit keyed tag of the accept-language (None when there is none)."""
        return _lang_tag(self._key, lang) if lang else None

    def truncate(self, ip: str) -> str:
        if self._v4 == 24 and ip.count(".") == 3 and ":" not in ip:
            return ip[: ip.rfind(".")] + ".0/24"
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return "invalid"
        prefix = self._v4 if addr.version == 4 else self._v6
        return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))

    def client_ip(self, scope: Mapping[str, Any], headers: dict[bytes, bytes]) -> str:
        return self.client(scope, headers)[0]

    def client(self, scope: Mapping[str, Any], headers: dict[bytes, bytes]) -> tuple[str, bool]:
        """(the client's address, whether the request came through a trusted proxy)."""
        peer = (scope.get("client") or ("", 0))[0] or ""
        if not self._trusted or not self._trusted.contains(peer):
            return peer, False
        return self._forwarded(headers, peer), True

    def _forwarded(self, headers: dict[bytes, bytes], peer: str) -> str:
        chain: list[str] = []
        fwd = headers.get(b"forwarded")
        if fwd:
            for part in fwd.decode("latin-1").split(","):
                for kv in part.split(";"):
                    k, _, v = kv.strip().partition("=")
                    if k.lower() == "for":
                        v = v.strip('"')
                        if v.startswith("["):
                            v = v[1 : v.find("]")]
                        elif v.count(":") == 1:
                            v = v.split(":")[0]
                        chain.append(v)
        else:
            xff = headers.get(b"x-forwarded-for")
            if xff:
                chain = [p.strip() for p in xff.decode("latin-1").split(",") if p.strip()]
        # Walk from the nearest hop back; the first address we do not trust is the client.
        for hop in reversed(chain):
            if not self._trusted.contains(hop):
                return hop
        return chain[0] if chain else peer

    def row(
        self,
        scope: Mapping[str, Any],
        slug: str,
        link_id: str | None,
        creator_id: str | None,
        click_id: str,
        now: float,
    ) -> tuple[Any, ...]:
        headers = dict(scope["headers"])
        ua = headers.get(b"user-agent", b"").decode("latin-1")[:MAX_UA]
        lang = headers.get(b"accept-language", b"").decode("latin-1")[:MAX_LANG]
        purpose = headers.get(b"sec-purpose") or headers.get(b"purpose") or b""
        prefetch = b"prefetch" in purpose.lower() or b"prerender" in purpose.lower()
        method = scope["method"]
        reason: str | None = None
        if method == "HEAD":
            reason = "head-request"
        elif prefetch:
            reason = "prefetch"
        agent = self.agents.get(ua)
        pending: str | None = None
        if agent is None:  # described by the writer (``complete``), off the redirect
            device = os_ = browser = ""
            pending = ua
        else:
            device, os_, browser, agent_reason = agent
            reason = agent_reason or reason
        ip, via_proxy = self.client(scope, headers)
        net = self.truncate(ip)
        limit_key = None if pending is None or _LOCAL.contains(ip) or net == "invalid" else net
        referrer = headers.get(b"referer")
        return (
            click_id,
            now,
            slug[:64],
            link_id,
            creator_id,
            self._mac(net, ua),
            device,
            os_,
            browser,
            0 if reason is None else 1,
            reason,
            int(prefetch),
            _referrer_host(referrer) if referrer else None,
            ip if self._raw_ip else None,
            method,
            self.ip_tag(ip),
            _lang_tag(self._key, lang) if lang else None,
            self.countries.country(headers, via_proxy, ip),
            None,
            pending,
            limit_key,
        )

    async def complete_rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``complete`` for a batch: its distinct unseen agents are described together,
        between redirects (``tracker.clicks.enricher``)."""
        known = self.agents.get
        pending = {
            r[PENDING_UA]
            for r in rows
            if len(r) > PENDING_UA and r[PENDING_UA] is not None and known(r[PENDING_UA]) is None
        }
        for ua, agent in (await self.describer.describe(pending)).items():
            self.agents.put(ua, agent)
        return [self.complete(r) for r in rows]

    def complete(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """A row from ``row`` -> the stored columns, describing its user agent if the
        redirect left that to us. An agent's bot rule wins over the request's (HEAD,
        prefetch), as it always has. Rows already complete pass through unchanged."""
        if len(row) <= PENDING_UA:
            return row
        ua = row[PENDING_UA]
        if ua is None:
            return row[:PENDING_UA]
        device, os_, browser, reason = self.agents.describe(ua)
        reason = reason or row[10]
        return (
            *row[:6],
            device,
            os_,
            browser,
            0 if reason is None else 1,
            reason,
            *row[11:PENDING_UA],
        )


@lru_cache(maxsize=4096)
def _lang_tag(key: bytes, lang: str) -> str:
    msg = b"lang|" + lang.encode("utf-8", "surrogateescape")
    return hashlib.blake2b(msg, key=key, digest_size=2).hexdigest()


class _Networks:
    """Trusted proxy networks as integers: ``contains`` parses an address with
    ``inet_pton`` (strict dotted quads / RFC 4291 text, in C) and masks it, ~0.5 us where
    ``ipaddress`` took ~5-10 us per new client address on the redirect."""

    def __init__(self, networks: tuple[Any, ...]) -> None:
        self.v4 = [(int(n.network_address), int(n.netmask)) for n in networks if n.version == 4]
        self.v6 = [(int(n.network_address), int(n.netmask)) for n in networks if n.version == 6]

    def __bool__(self) -> bool:
        return bool(self.v4 or self.v6)

    def contains(self, ip: str) -> bool:
        try:
            n, nets = int.from_bytes(socket.inet_pton(socket.AF_INET, ip)), self.v4
        except OSError:
            try:
                n, nets = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip)), self.v6
            except OSError:
                return False
        return any(n & mask == net for net, mask in nets)


#: Addresses that name no client of their own (private, loopback, link-local, CGNAT space).
_LOCAL = _Networks(
    tuple(
        ipaddress.ip_network(n)
        for n in (
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "127.0.0.0/8",
            "100.64.0.0/10",
            "169.254.0.0/16",
            "::1/128",
            "fc00::/7",
            "fe80::/10",
        )
    )
)


def _referrer_host(raw: bytes) -> str | None:
    text = raw.decode("latin-1")
    _, sep, rest = text.partition("//")
    if not sep:
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0].lower()[:MAX_REFERRER_HOST] or None
