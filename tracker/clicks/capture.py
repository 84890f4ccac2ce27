"""Click capture: who clicked (device, bot or human, privacy-safe fingerprint), no I/O.

Per request the redirect calls ``ClickCapture.row`` and hands the row to the click writer
(``tracker.clicks.writer``). Work that depends only on the user agent (parsing, bot rules)
is cached per distinct user agent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import user_agents  # type: ignore[import-untyped]  # ships no type hints (no stubs exist)
from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]  # ships no type hints

from tracker.settings import Settings

log = logging.getLogger("tracker.clicks")

MAX_UA = 512
MAX_REFERRER_HOST = 255
MAX_LANG = 128
#: Lag statistics: the default window, and how many recent clicks' timings are kept at most.

#: Link previewers and fetchers that unfurl a link in a chat or feed: redirected, never counted.
PREVIEWERS = re.compile(
    r"(facebookexternalhit|facebot|facebookcatalog|meta-externalagent|twitterbot|slackbot|"
    r"slack-imgproxy|whatsapp|telegrambot|discordbot|linkedinbot|skypeuripreview|googlebot|"
    r"google-inspectiontool|adsbot-google|bingbot|bingpreview|applebot|pinterest(bot)?|"
    r"redditbot|embedly|iframely|vkshare|viber|snapchat|skype|mastodon|bluesky|"
    r"yandex(bot)?|baiduspider|duckduckbot|bytespider|gptbot|chatgpt-user|claudebot|"
    r"perplexitybot|amazonbot|petalbot|semrushbot|ahrefsbot|headlesschrome|lighthouse|"
    r"curl/|wget/|python-requests|python-httpx|go-http-client|okhttp|java/|libwww|"
    r"httpclient|node-fetch|axios/)",
    re.IGNORECASE,
)
_crawler = CrawlerDetect()


@lru_cache(maxsize=16384)
def describe_agent(ua: str) -> tuple[str, str, str, str | None]:
    """User agent -> (device, os, browser, bot_reason or None). Cached per distinct agent."""
    if not ua:
        return "unknown", "", "", "empty-user-agent"
    m = PREVIEWERS.search(ua)
    parsed = user_agents.parse(ua)
    if parsed.is_mobile:
        device = "mobile"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_pc:
        device = "desktop"
    elif parsed.is_bot:
        device = "bot"
    else:
        device = "other"
    reason: str | None = None
    if m:
        reason = f"previewer:{m.group(1).lower().rstrip('/')}"
    elif parsed.is_bot:
        reason = "user-agents:is_bot"
    elif _crawler.isCrawler(ua):
        matches = _crawler.getMatches()
        reason = f"crawlerdetect:{(matches or 'match')!s}"[:64]
    return device, parsed.os.family[:64], parsed.browser.family[:64], reason


class ClickCapture:
    """Turns an ASGI scope into a click row, with settings parsed once."""

    def __init__(self, settings: Settings) -> None:
        # BLAKE2b in keyed mode is a MAC (RFC 7693) like HMAC-SHA256, at a quarter of the
        # cost per click (0.9 vs 3.9 us measured); the key is derived so any length works.
        self._key = hashlib.sha256(
            b"creatorlink fingerprint|" + settings.secret_key.encode()
        ).digest()
        self._trusted = settings.trusted_proxies
        self._v4 = settings.fingerprint_ipv4_prefix
        self._v6 = settings.fingerprint_ipv6_prefix
        self._raw_ip = settings.store_raw_ip

    def fingerprint(self, ip: str, ua: str, lang: str) -> str:
        """MAC(secret, truncated IP | user agent | accept-language), 32 hex characters:
        stable for one visitor, not reversible to an address without the secret."""
        msg = f"{self.truncate(ip)}|{ua}|{lang}".encode("utf-8", "surrogateescape")
        return hashlib.blake2b(msg, key=self._key, digest_size=16).hexdigest()

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
        peer = (scope.get("client") or ("", 0))[0] or ""
        if not self._trusted or not _in(peer, self._trusted):
            return peer
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
            if not _in(hop, self._trusted):
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
        device, os_, browser, reason = describe_agent(ua)
        purpose = headers.get(b"sec-purpose") or headers.get(b"purpose") or b""
        prefetch = b"prefetch" in purpose.lower() or b"prerender" in purpose.lower()
        method = scope["method"]
        if reason is None:
            if method == "HEAD":
                reason = "head-request"
            elif prefetch:
                reason = "prefetch"
        ip = self.client_ip(scope, headers)
        referrer = headers.get(b"referer")
        return (
            click_id,
            now,
            slug[:64],
            link_id,
            creator_id,
            self.fingerprint(ip, ua, lang),
            device,
            os_,
            browser,
            0 if reason is None else 1,
            reason,
            int(prefetch),
            _referrer_host(referrer) if referrer else None,
            ip if self._raw_ip else None,
            method,
        )


def _in(ip: str, networks: tuple[Any, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def _referrer_host(raw: bytes) -> str | None:
    text = raw.decode("latin-1")
    _, sep, rest = text.partition("//")
    if not sep:
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0].lower()[:MAX_REFERRER_HOST] or None
