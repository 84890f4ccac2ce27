"""Open redirects: hostile destinations refused at creation; a redirect goes only where stored.

Two halves. (1) A corpus of known open-redirect and header-injection tricks, each refused
with 422 by the API on both engines, with nothing written. (2) Properties: whatever query
string a shopper appends to a short link, the ``Location`` keeps the stored scheme, host
and path, carries exactly our click id, and contains no byte that could split a header.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Running, Server, free_port, server_env
from tracker.links.rules import DestinationError, clean_destination, compile_link

PARAM = "cl_cid"

#: (trick, destination). Every one must be refused.
HOSTILE: list[tuple[str, str]] = [
    ("javascript scheme", "javascript:alert(document.domain)"),
    ("javascript mixed case", "JaVaScRiPt:alert(1)"),
    ("javascript with comment", "javascript://shop.example.com/%0aalert(1)"),
    ("data URL", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("vbscript", "vbscript:msgbox(1)"),
    ("file scheme", "file:///etc/passwd"),
    ("ftp scheme", "ftp://evil.example/x"),
    ("scheme-relative", "//evil.example/"),
    ("scheme-relative triple slash", "///evil.example/"),
    ("backslashes", "\\\\evil.example/"),
    ("mixed slashes", "https:/\\evil.example/"),
    ("backslash after host", "https://shop.example.com\\@evil.example/"),
    ("https without slashes", "https:evil.example"),
    ("https one slash", "https:/evil.example"),
    ("userinfo @", "https://shop.example.com@evil.example/"),
    ("userinfo with password", "https://user:pass@evil.example/"),
    ("encoded @ in userinfo", "https://shop.example.com%40evil.example/"),
    ("unicode look-alike (cyrillic o)", "https://sh\u043ep.example.com/"),
    ("fullwidth letters", "https://\uff45vil.example/"),
    ("ideographic full stop", "https://evil\u3002example/"),
    ("zero-width space in host", "https://shop\u200b.example.com/"),
    ("soft hyphen in host", "https://sho\u00adp.example.com/"),
    ("punycode look-alike", "https://xn--shp-tdd.example.com/"),
    ("uppercase punycode", "https://XN--80AK6AA92E.com/"),
    ("CRLF header injection", "https://shop.example.com/\r\nSet-Cookie: a=b"),
    ("bare LF", "https://shop.example.com/\nLocation: https://evil.example/"),
    ("NUL byte", "https://shop.example.com/\x00.evil.example"),
    ("tab inside scheme", "jav\tascript:alert(1)"),
    ("newline inside scheme", "java\nscript:alert(1)"),
    ("tab inside https", "ht\ttps://evil.example/"),
    ("space in host", "https://shop example.com/"),
    ("overlong URL", "https://shop.example.com/" + "a" * 2100),
    ("overlong beyond schema cap", "https://shop.example.com/" + "a" * 5000),
    ("percent-encoded scheme", "%6A%61%76%61%73%63%72%69%70%74:alert(1)"),
    ("percent-encoded colon", "https%3A//evil.example/"),
    ("percent-encoded host", "https://%65vil.example/"),
    ("encoded slash in host", "https://evil.example%2f.shop.example.com/"),
    ("IPv4 literal", "https://127.0.0.1/"),
    ("IPv4 decimal", "https://2130706433/"),
    ("IPv4 octal", "https://0177.0.0.1/"),
    ("IPv4 hex label (WHATWG)", "https://0x7f.1/"),
    ("numeric last label", "https://shop.example.123/"),
    ("IPv6 literal", "https://[::1]/"),
    ("single-label host", "https://localhost/"),
    ("bad port", "https://shop.example.com:99999/"),
    ("port zero", "https://shop.example.com:0/"),
    ("empty host", "https:///path"),
    ("label with trailing hyphen", "https://evil-.example/"),
    ("empty string", ""),
    ("not a URL", "shop.example.com/product"),
    ("mailto", "mailto:someone@shop.example.com"),
    ("intent scheme", "intent://evil.example#Intent;scheme=https;end"),
]


@pytest.mark.parametrize(("trick", "url"), HOSTILE, ids=[t for t, _ in HOSTILE])
def test_clean_destination_refuses(trick: str, url: str) -> None:
    with pytest.raises(DestinationError):
        clean_destination(url)


def test_idna_error_is_a_422_not_a_500() -> None:
    """Regression (found here): an allow-listed IDN host with an empty label raised
    UnicodeError from the idna codec, which would have been a 500."""
    with pytest.raises(DestinationError):
        clean_destination("https://\u00e4..shop.example.com/", ("shop.example.com",))


@pytest.mark.anyio
async def test_api_refuses_every_trick(live: Running, figures: Callable[[str, Any], None]) -> None:
    auth = await live.token()
    ok = await live.client.post(
        "/api/v1/links",
        headers=auth,
        json={"destination": "https://shop.example.com/p", "slug": "good"},
    )
    assert ok.status_code == 201, ok.text
    for trick, url in HOSTILE:
        r = await live.client.post("/api/v1/links", headers=auth, json={"destination": url})
        assert r.status_code == 422, (trick, r.status_code, r.text)
        assert r.json()["detail"], trick
        p = await live.client.patch("/api/v1/links/good", headers=auth, json={"destination": url})
        assert p.status_code == 422, (trick, "patch", p.status_code, p.text)
    links = await live.store.list_links(limit=1000)
    assert [(x["slug"], x["destination"]) for x in links] == [
        ("good", "https://shop.example.com/p")
    ]
    figures("hostile destinations refused (create and update)", len(HOSTILE))


# -- properties ------------------------------------------------------------------------------
_host = st.from_regex(r"\A[a-z][a-z0-9-]{0,12}[a-z0-9]\.(com|shop|co\.uk|store)\Z")
_path = st.lists(st.text("abcXYZ019-_.~%é", min_size=1, max_size=8), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)
_query = st.lists(
    st.tuples(
        st.sampled_from(["variant", "utm_source", "ref", "q", PARAM]), st.text("ab1-_", max_size=6)
    ),
    max_size=3,
).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv))
_shopper = st.binary(max_size=300)


@settings(max_examples=400, deadline=None)
@given(
    host=_host,
    path=_path,
    query=_query,
    fragment=st.sampled_from(["", "#reviews"]),
    shopper=_shopper,
)
def test_location_keeps_stored_destination(
    host: str, path: str, query: str, fragment: str, shopper: bytes
) -> None:
    dest = clean_destination(f"https://{host}{path}{'?' + query if query else ''}{fragment}")
    link = compile_link(
        {
            "id": "ln_1",
            "slug": "s",
            "destination": dest,
            "utm_source": "instagram",
            "utm_medium": "influencer",
        },
        PARAM,
        (),
    )
    location = link.location(PARAM, "CLICKID123456789", shopper)
    stored = urlsplit(dest)
    got = urlsplit(location)
    assert location.startswith(f"{stored.scheme}://{stored.netloc}{stored.path}")
    assert (got.scheme, got.netloc, got.path) == (stored.scheme, stored.netloc, stored.path)
    assert parse_qs(got.query, keep_blank_values=True)[PARAM] == ["CLICKID123456789"]
    assert got.fragment == stored.fragment
    location.encode("ascii")  # header-safe: nothing outside printable ASCII
    assert not any(c in location for c in " \r\n\t\\\x00")


# -- the same property through a real server and raw sockets ----------------------------------
@pytest.fixture(scope="module")
def redirect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    srv = Server(
        server_env(tmp, f"sqlite:///{tmp / 'tracker.db'}"), free_port(), tmp / "server.log"
    ).start()
    try:
        srv.cli(
            "link",
            "create",
            "--slug",
            "tee",
            "--destination",
            "https://shop.example.com/products/tee?variant=7#reviews",
        )
        yield srv
    finally:
        srv.stop()


def _raw_get(port: int, target: bytes) -> tuple[int, dict[str, str]]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"User-Agent: Mozilla/5.0\r\n\r\n"
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        assert k.lower() not in headers or k.lower() == "set-cookie", f"duplicate {k}"
        headers[k.strip().lower()] = v.strip()
    return int(head[0].split(" ")[1]), headers


# Bytes a client can put in a request target (no space, no CR/LF/NUL, no '#').
_target_bytes = st.binary(max_size=200).map(
    lambda b: bytes(c for c in b if 0x21 <= c <= 0x7E and c != 0x23)
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=_target_bytes)
def test_redirect_location_over_http(redirect_server: Server, query: bytes) -> None:
    status, headers = _raw_get(redirect_server.port, b"/tee?" + query)
    if status == 400:  # the HTTP parser refused the request line itself: nothing to follow
        return
    assert status == 302, (status, query)
    loc = urlsplit(headers["location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "shop.example.com", "/products/tee")
    assert headers["location"].startswith("https://shop.example.com/products/tee?variant=7&")
    qs = parse_qs(loc.query, keep_blank_values=True)
    assert len(qs[PARAM]) == 1 and len(qs[PARAM][0]) == 16
    assert qs["variant"] == ["7"] and qs["utm_medium"] == ["influencer"]
    assert loc.fragment == "reviews"


ALLOW_LIST_TRICKS = [
    ("allowed host as a prefix", "https://shop.example.com.evil.example/"),
    ("allowed host as a suffix without a dot", "https://evilshop.example.com/"),
    ("allowed host in the path", "https://evil.example/shop.example.com"),
    ("allowed host in userinfo", "https://shop.example.com@evil.example/"),
    ("allowed host in the query", "https://evil.example/?next=https://shop.example.com"),
    ("look-alike of the allowed host", "https://sh\u043ep.example.com/"),
]


@pytest.mark.parametrize(("trick", "url"), ALLOW_LIST_TRICKS, ids=[t for t, _ in ALLOW_LIST_TRICKS])
def test_allow_list_cannot_be_sidestepped(trick: str, url: str) -> None:
    allowed = ("shop.example.com",)
    assert clean_destination("https://www.shop.example.com/p", allowed)
    with pytest.raises(DestinationError):
        clean_destination(url, allowed)
