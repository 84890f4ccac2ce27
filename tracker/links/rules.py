"""Links: destination safety, slugs, and the compiled form the redirect serves.

A destination is checked when a link is created or changed *and* again when the redirect
compiles it from the store, so a bad row never becomes a ``Location``. Each link's final
URL (destination + UTM) is built once per cache fill; a click only appends the click id and
any extra query parameters the shopper brought.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit

from tracker.core import clock
from tracker.core.errors import Unprocessable
from tracker.links.apply import Apply, compile_apply
from tracker.links.targeting import Routing, compile_targeting

MAX_URL = 2048
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
#: Paths the app owns; never slugs.
RESERVED_SLUGS = frozenset(
    {
        "api",
        "admin",
        "postbacks",
        "static",
        "healthz",
        "metrics",
        "favicon.ico",
        "robots.txt",
        "c",
        "p",
        "login",
        "logout",
    }
)
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


#: Names that are never a public shop: loopback (``localhost``, and ``*.localhost`` which
#: browsers resolve to it), mDNS, and the special-use names of local and test networks.
PRIVATE_NAMES = frozenset({"localhost", "localhost.localdomain"})
PRIVATE_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".home.arpa",
    ".localdomain",
    ".lan",
    ".intranet",
    ".corp",
    ".test",
    ".invalid",
    ".onion",
)


class DestinationError(Unprocessable):
    """A destination URL we refuse to redirect to; the reason says why."""


def check_slug(slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise Unprocessable(
            "slug: 1-64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    if slug.lower() in RESERVED_SLUGS:
        raise Unprocessable(f"slug: {slug!r} is reserved")
    return slug


def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    return any(host == a or host.endswith("." + a) for a in allowed)


def clean_destination(url: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Return the destination normalised (non-ASCII path/query percent-encoded) or raise.

    Refuses: schemes other than http(s) (``javascript:``, ``data:``...), scheme-relative and
    backslash tricks (``//evil``, ``\\\\evil``, ``https:evil``), credentials (``user@``),
    control characters and whitespace (CRLF injection), IP literals, loopback and private
    network names (``localhost``, ``*.localhost``, ``*.local``, ``*.internal``,
    ``*.home.arpa``... and single-label hosts), non-ASCII or punycode
    hosts (look-alikes) unless allow-listed, over-long URLs, and hosts outside
    ``TRACKER_ALLOWED_HOSTS`` when it is set.
    """
    # long: the refusals above, one after the other in the order a URL is read
    if not isinstance(url, str) or not url:
        raise DestinationError("destination: required")
    if len(url) > MAX_URL:
        raise DestinationError(f"destination: longer than {MAX_URL} characters")
    if _FORBIDDEN_CHARS.search(url):
        raise DestinationError("destination: contains whitespace, control characters or '\\'")
    lowered = url[:8].lower()
    if not (lowered.startswith("http://") or lowered.startswith("https://")):
        raise DestinationError("destination: only absolute http:// or https:// URLs")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationError(f"destination: {exc}") from None
    netloc = parts.netloc
    if "@" in netloc:
        raise DestinationError("destination: credentials (user@host) are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise DestinationError("destination: missing host")
    if host.startswith("[") or _is_ip(host):
        raise DestinationError("destination: IP addresses are not allowed, use a host name")
    allowed = _host_allowed(host, allowed_hosts)
    if not host.isascii() or any(label.startswith("xn--") for label in host.split(".")):
        if not allowed:
            raise DestinationError(
                "destination: internationalised (look-alike prone) host; add it to "
                "TRACKER_ALLOWED_HOSTS to use it"
            )
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:  # empty or over-long label: a 422, never a 500
            raise DestinationError("destination: not a valid host name") from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise DestinationError("destination: not a valid public host name")
    if host.lower() in PRIVATE_NAMES or host.lower().endswith(PRIVATE_SUFFIXES):
        # Browsers send *.localhost to loopback; the rest are names of local networks.
        raise DestinationError(f"destination: {host} is a loopback or private network name")
    if _NUMERIC_LABEL.match(labels[-1]):
        # Browsers (WHATWG URL) parse a host whose last label is a number as IPv4:
        # https://0x7f.1/ is 127.0.0.1.
        raise DestinationError("destination: a host ending in a number is an IP address")
    if port == 0:
        raise DestinationError("destination: port 0 is not a port")
    if allowed_hosts and not allowed:
        raise DestinationError(f"destination: host {host} is not in TRACKER_ALLOWED_HOSTS")
    scheme = parts.scheme.lower()
    netloc = host if port is None else f"{host}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="=&%/:?@!$'()*+,;-._~")
    fragment = quote(parts.fragment, safe="=&%/:?@!$'()*+,;-._~#")
    out = f"{scheme}://{netloc}{path}"
    if query:
        out += "?" + query
    if fragment:
        out += "#" + fragment
    if len(out) > MAX_URL:
        raise DestinationError(f"destination: longer than {MAX_URL} characters once encoded")
    return out


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(r"[0-9.]+", host)) or host.isdigit()
    return True


@dataclass(frozen=True, slots=True)
class CompiledLink:
    """What the redirect needs of a link, prepared once per cache fill."""

    id: str
    slug: str
    creator_id: str | None
    active: bool
    expires_at: float | None
    base: str  # destination + UTM, without fragment
    has_query: bool
    fragment: str  # '' or '#...'
    taken: frozenset[str]  # query names a shopper may not add or override
    #: targeting rules and A/B variants, each destination compiled like this one's
    routing: Routing[CompiledLink] | None = None
    apply: Apply | None = None  # the shop URL that applies the creator's code

    def usable(self, now: float) -> bool:
        return self.active and (self.expires_at is None or now < self.expires_at)

    def location(self, param: str, click_id: str, shopper_query: bytes = b"") -> str:
        url = self.base + ("&" if self.has_query else "?")
        if shopper_query:
            extra = passthrough(shopper_query, self.taken)
            if extra:
                url += extra + "&"
        return f"{url}{param}={click_id}{self.fragment}"


def passthrough(query: bytes, taken: frozenset[str]) -> str:
    """The shopper's own query parameters, minus any the link already sets."""
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return ""
    kept = [(k, v) for k, v in pairs if k and k not in taken and len(k) <= 64]
    return urlencode(kept, safe="/:") if kept else ""


def _compile_destination(
    destination: str, row: dict[str, Any], click_param: str, allowed_hosts: tuple[str, ...]
) -> tuple[str, bool, str, frozenset[str]]:
    """(base, has_query, fragment, taken) of one destination with the link's UTM fields."""
    dest = clean_destination(destination, allowed_hosts)
    base, _, fragment = dest.partition("#")
    root, _, query = base.partition("?")
    # Keep the destination's own query byte for byte; only drop what we replace.
    segments = [s for s in query.split("&") if s]
    names = {unquote_plus(s.partition("=")[0]) for s in segments}
    override = bool(row.get("utm_override"))
    added: list[tuple[str, str]] = []
    for name in UTM_FIELDS:
        value = row.get(name)
        if not value:
            continue
        if name in names:
            if not override:
                continue
            segments = [s for s in segments if unquote_plus(s.partition("=")[0]) != name]
        added.append((name, value))
        names.add(name)
    segments = [s for s in segments if unquote_plus(s.partition("=")[0]) != click_param]
    names.discard(click_param)
    if added:
        segments.append(urlencode(added, quote_via=quote))
    query = "&".join(segments)
    return (
        f"{root}?{query}" if query else root,
        bool(query),
        f"#{fragment}" if fragment else "",
        frozenset(names | {click_param}),
    )


def _spec(raw: object) -> dict[str, Any] | None:
    """A JSON column (text on both engines) -> dict or None."""
    if not raw:
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict):
        raise Unprocessable("targeting/apply_code: not a JSON object")
    return value


def compile_link(
    row: dict[str, Any], click_param: str, allowed_hosts: tuple[str, ...]
) -> CompiledLink:
    """Row from the store -> CompiledLink; raises DestinationError for a bad stored URL
    (the link's own destination, a rule's or a variant's)."""
    base, has_query, fragment, taken = _compile_destination(
        row["destination"], row, click_param, allowed_hosts
    )
    expires = row.get("expires_at")
    link = CompiledLink(
        id=row["id"],
        slug=row["slug"],
        creator_id=row.get("creator_id"),
        active=row.get("status", "active") == "active",
        expires_at=clock.epoch(expires) if expires else None,
        base=base,
        has_query=has_query,
        fragment=fragment,
        taken=taken,
    )

    def target(destination: str) -> CompiledLink:
        b, q, f, t = _compile_destination(destination, row, click_param, allowed_hosts)
        return replace(link, base=b, has_query=q, fragment=f, taken=t)

    spec = _spec(row.get("targeting"))
    routing = compile_targeting(spec, link.id, target) if spec else None
    apply = compile_apply(
        _spec(row.get("apply_code")), lambda url: clean_destination(url, allowed_hosts)
    )
    if routing is None and apply is None:
        return link
    return replace(link, routing=routing, apply=apply)
