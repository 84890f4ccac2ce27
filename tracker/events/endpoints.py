"""Webhook endpoints a brand registers: URL rules, secrets shown once, what the API shows.

An endpoint URL is absolute http(s), without credentials, at most 2,048 characters. Unless
``TRACKER_WEBHOOK_ALLOW_PRIVATE`` is on, the worker refuses to deliver to an address that
resolves to a loopback, private, link-local or otherwise non-public IP (checked at every
attempt, so a DNS change cannot turn an endpoint against the server's own network), and
connects to the address it checked (``Target``): the host is resolved once per attempt, so
a name that answers a public address to the check and a private one to the connection (DNS
rebinding) reaches nothing it should not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, StringConstraints

from tracker.core.errors import Unprocessable
from tracker.events import signing
from tracker.events.payloads import EVENT_TYPES
from tracker.schemas import Model
from tracker.settings import Settings
from tracker.store.engine import Row

MAX_URL = 2048


def check_url(url: str, *, allow_private: bool) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL:
        raise Unprocessable(f"url: at most {MAX_URL} characters")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unprocessable("url: expected an absolute http(s) URL")
    if parts.username or parts.password:
        raise Unprocessable(
            "url: credentials in the URL are not allowed (the signature authenticates us)"
        )
    if not allow_private:
        try:
            ip = ipaddress.ip_address(parts.hostname)
        except ValueError:
            if parts.hostname.lower() in ("localhost",) or parts.hostname.endswith(".localhost"):
                raise Unprocessable("url: localhost is not allowed") from None
        else:
            if not ip.is_global:
                raise Unprocessable("url: a non-public address is not allowed")
    return url


def check_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise Unprocessable(
            f"event_types: unknown {', '.join(unknown)} (known: {', '.join(EVENT_TYPES)})"
        )
    return sorted(set(types))


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: ``urls`` name the checked addresses themselves, to try in
    turn while one refuses the connection (IPv4 first, as a server without an IPv6 route
    needs); ``host`` (the Host header) and ``sni`` (TLS server name and certificate check)
    keep the endpoint's."""

    urls: tuple[str, ...]
    host: str
    sni: str | None


async def resolve(url: str, *, allow_private: bool) -> Target | str:
    """The address to deliver ``url`` to, or why delivering is refused: it cannot be
    resolved, or (unless ``allow_private``) any of its addresses is not public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    ips = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not ips:
        return f"cannot resolve {host}"
    if not allow_private and any(not ip.is_global for ip in ips):
        return f"{host} resolves to a non-public address"
    urls = []
    for ip in sorted(dict.fromkeys(ips), key=lambda ip: ip.version):
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        urls.append(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))
    named = parts.netloc.rpartition("@")[2]  # no credentials: check_url refuses them
    return Target(tuple(urls), named, host if parts.scheme == "https" else None)


def new_row(url: str, description: str, types: list[str]) -> tuple[dict[str, Any], str]:
    secret = signing.new_secret()
    return {
        "url": url,
        "description": description,
        "secret": secret,
        "event_types": json.dumps(types),
    }, secret


def present(row: Row) -> dict[str, Any]:
    """An endpoint as the API shows it: never its secret."""
    return {
        "id": row["id"],
        "url": row["url"],
        "description": row["description"],
        "event_types": json.loads(row["event_types"]),
        "status": row["status"],
        "disabled_reason": row["disabled_reason"],
        "consecutive_failures": int(row["failures"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# -- input models and services (API, CLI, panel share them) -------------------------------------
class EndpointIn(Model):
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)]
    description: Annotated[str, StringConstraints(max_length=200)] = ""
    event_types: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=20
    )


class EndpointPatch(Model):
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)] | None = None
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    event_types: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(
        None, max_length=20
    )
    status: Literal["active", "disabled"] | None = None
    rotate_secret: bool = False


class ReplayIn(Model):
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


async def create(store: Any, settings: Settings, m: EndpointIn) -> dict[str, Any]:
    """Register an endpoint; the answer is the only place its secret is ever shown."""
    url = check_url(m.url, allow_private=settings.webhook_allow_private)
    fields, secret = new_row(url, m.description, check_types(m.event_types))
    row = await store.create_endpoint(fields)
    return {**present(row), "secret": secret}


async def update(store: Any, settings: Settings, ref: str, m: EndpointPatch) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if m.url is not None:
        fields["url"] = check_url(m.url, allow_private=settings.webhook_allow_private)
    if m.description is not None:
        fields["description"] = m.description
    if m.event_types is not None:
        fields["event_types"] = json.dumps(check_types(m.event_types))
    if m.status is not None:
        fields["status"] = m.status
        if m.status == "disabled":
            fields["disabled_reason"] = "disabled by a person"
    secret = signing.new_secret() if m.rotate_secret else None
    if secret:
        fields["secret"] = secret
    row = await store.update_endpoint(ref, fields) if fields else await store.get_endpoint(ref)
    out = present(row)
    if secret:
        out["secret"] = secret
    return out
