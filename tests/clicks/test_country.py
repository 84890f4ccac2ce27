"""Country per click (issue 17): from a CDN header only through a trusted proxy, else from a
MaxMind-format file the user points to, else from the data installed with the package; the
address itself never stored. Through real server processes, and the store on both engines.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tests.conftest import Server, free_port, make_settings, running, server_env
from tracker.clicks.country import CountryLookup, clean_code
from tracker.core.errors import SettingsError

pytestmark = pytest.mark.anyio
UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLE_DNS = "8.8.8.8"  # registered in the US (RIR data)
BRITISH = "81.2.69.160"  # registered in GB (RIR data); the file below says nothing of it


def mmdb(path: Path) -> Path:
    """A real MaxMind-format country file (GeoLite2-Country's record shape): 8.8.8.0/24 in
    Canada, so a file answer is told apart from the built-in one (US)."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["8.8.8.0/24"]), {"country": {"iso_code": "CA"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"registered_country": {"iso_code": "nz"}})
    writer.to_db_file(str(path))
    return path


def test_codes_are_two_letters_or_nothing() -> None:
    assert clean_code(b"de") == "DE"
    for bad in (b"XX", b"T1", b"", None, b"DEU", b"1A", "é1", b"<s"):
        assert clean_code(bad) is None


def test_sources_in_order(tmp_path: Path) -> None:
    both = CountryLookup(("CF-IPCountry",), str(mmdb(tmp_path / "c.mmdb")), True)
    assert both.source_names == ["maxmind-file", "builtin"]
    headers = {b"cf-ipcountry": b"FR"}
    assert both.country(headers, True, GOOGLE_DNS) == "FR"  # trusted: the CDN's word
    assert both.country(headers, False, GOOGLE_DNS) == "CA"  # untrusted: the file
    assert both.country({}, False, "2001:db8::1") == "NZ"
    assert both.country({}, False, BRITISH) == "GB"  # not in the file: the built-in data
    assert both.country({}, False, "127.0.0.1") is None
    assert both.country({}, False, "not an address") is None
    builtin = CountryLookup((), "", True)
    assert builtin.country(headers, True, GOOGLE_DNS) == "US"  # no header configured
    assert CountryLookup((), "", False).country({}, False, GOOGLE_DNS) is None
    with pytest.raises(SettingsError):
        CountryLookup((), str(tmp_path / "missing.mmdb"), True)
    (tmp_path / "junk.mmdb").write_bytes(b"not a database")
    with pytest.raises(SettingsError):
        CountryLookup((), str(tmp_path / "junk.mmdb"), True)


def _click(srv: Server, slug: str, headers: dict[str, str]) -> str:
    r = httpx.get(f"{srv.url}/{slug}", headers={"user-agent": UA, **headers})
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["location"]).query)["cl_cid"][0]


def _setup(srv: Server) -> None:
    token = srv.cli("token", "create", "t").strip()
    r = httpx.post(
        f"{srv.url}/api/v1/links",
        headers={"Authorization": f"Bearer {token}"},
        json={"destination": "https://shop.example.com/p", "slug": "geo"},
    )
    assert r.status_code == 201, r.text


def _stored(db: Path) -> dict[str, tuple[str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, country, ip FROM clicks").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_country_through_real_servers(tmp_path: Path, database_url: str) -> None:
    behind = tmp_path / "behind-proxy"
    env = server_env(
        behind,
        database_url.replace(str(tmp_path), str(behind)),
        TRACKER_TRUSTED_PROXIES="127.0.0.1/32",
        TRACKER_GEOIP_DATABASE=str(mmdb(tmp_path / "c.mmdb")),
        TRACKER_COUNTRY_HEADERS="CloudFront-Viewer-Country,CF-IPCountry",
    )
    srv = Server(env, free_port(), tmp_path / "a.log").start()
    try:
        _setup(srv)
        header = _click(srv, "geo", {"cf-ipcountry": "jp", "x-forwarded-for": GOOGLE_DNS})
        first = _click(
            srv, "geo", {"cloudfront-viewer-country": "SE", "cf-ipcountry": "JP"}
        )  # the first configured header wins
        from_file = _click(srv, "geo", {"x-forwarded-for": GOOGLE_DNS})
        builtin = _click(srv, "geo", {"x-forwarded-for": BRITISH})
        unknown = _click(srv, "geo", {"cf-ipcountry": "XX"})  # loopback, no country
        srv.stop()
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()
    stored = _stored(behind / "tracker.db")
    assert stored[header] == ("JP", None)  # the raw address is never stored
    assert stored[first] == ("SE", None)
    assert stored[from_file] == ("CA", None)
    assert stored[builtin] == ("GB", None)
    assert stored[unknown] == (None, None)

    # Without trusted proxies the header is the visitor's own claim: ignored.
    direct = tmp_path / "direct"
    env = server_env(direct, database_url.replace(str(tmp_path), str(direct)))
    srv = Server(env, free_port(), tmp_path / "b.log").start()
    try:
        _setup(srv)
        claimed = _click(srv, "geo", {"cf-ipcountry": "JP", "x-forwarded-for": GOOGLE_DNS})
        srv.stop()
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()
    assert _stored(direct / "tracker.db")[claimed] == (None, None)  # 127.0.0.1: no country


async def test_country_in_the_click_log_and_the_api(tmp_path: Path, database_url: str) -> None:
    """Both engines: the column round-trips and the click list shows it."""
    settings = make_settings(tmp_path, database_url, TRACKER_TRUSTED_PROXIES="203.0.113.0/24")
    async with running(settings) as live:  # the test client's address: a CDN in front
        auth = await live.token()
        r = await live.client.post(
            "/api/v1/links",
            headers=auth,
            json={"destination": "https://shop.example.com/p", "slug": "geo"},
        )
        assert r.status_code == 201
        await live.client.get("/geo", headers={"cf-ipcountry": "BR"})
        await live.client.get("/geo", headers={"x-forwarded-for": BRITISH})
        await live.flush()
        r = await live.client.get("/api/v1/clicks?link=geo", headers=auth)
        assert sorted(c["country"] for c in r.json()["items"]) == ["BR", "GB"]
        assert {c["ip"] for c in r.json()["items"]} == {None}
