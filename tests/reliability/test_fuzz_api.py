"""Schemathesis against ``/api/v1/openapi.json``: a real server per engine, every operation.

Asserted for every generated request (valid and deliberately invalid): no 5xx, the status
is one the schema declares, and the content type and body match the schema.
Examples per operation: ``TRACKER_TEST_FUZZ_EXAMPLES`` (default 25).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PG_URL, Server, _pg_schema_url, _psql, free_port, server_env
from tracker.http.openapi import openapi_schema
from tracker.http.routes import api_routes

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("TRACKER_TEST_FUZZ_EXAMPLES", "25"))
# negative_data_rejection is left out: the API deliberately ignores unknown query
# parameters (a 200 for ``?utm_x=1`` is fine); invalid bodies are covered by the 422 checks.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# CSV imports take text/csv: sent as the plain text schemathesis generates for them.
schemathesis.serializer.alias("text/csv", "text/plain")
schema = schemathesis.openapi.from_dict(openapi_schema(api_routes(), "http://127.0.0.1"))
CASES: dict[str, int] = {}  # engine -> generated requests sent
COVERED: dict[str, set[str]] = {}  # engine -> test items (one per operation) that sent any


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_target(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, str], requests.Session]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    schema_name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'tracker.db'}"
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL tests need TRACKER_TEST_POSTGRES_URL (CI sets it)")
        schema_name = "fuzz_" + secrets.token_hex(6)
        _psql(f"CREATE SCHEMA {schema_name}")
        url = _pg_schema_url(schema_name)
    srv = Server(
        server_env(tmp, url, TRACKER_API_RATE_PER_SEC="0"), free_port(), tmp / "server.log"
    ).start()
    COVERED.setdefault(request.param, set())
    try:
        token = srv.cli("token", "create", "fuzz").strip()
        srv.cli("creator", "create", "--handle", "fuzzer")
        srv.cli("campaign", "create", "--name", "fuzz")
        srv.cli("link", "create", "--slug", "fuzz", "--destination", "https://shop.example.com/")
        with requests.Session() as session:  # one keep-alive connection, as a client would
            yield srv, {"Authorization": f"Bearer {token}"}, session
    finally:
        srv.stop()
        if schema_name:
            _psql(f"DROP SCHEMA {schema_name} CASCADE")
        key = request.param
        print(f"schemathesis cases run against {key}: {CASES.get(key, 0)}")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_api_fuzz(
    case: schemathesis.Case,
    fuzz_target: tuple[Server, dict[str, str], requests.Session],
    request: pytest.FixtureRequest,
) -> None:
    srv, auth, session = fuzz_target
    engine = request.node.callspec.params["fuzz_target"]
    CASES[engine] = CASES.get(engine, 0) + 1
    COVERED[engine].add(request.node.nodeid)
    case.call_and_validate(
        base_url=srv.url, session=session, headers=auth, checks=CHECKS, timeout=30
    )


def test_fuzz_case_count(
    figures: Callable[[str, Any], None], request: pytest.FixtureRequest
) -> None:
    """Runs after the fuzzing (same module): every selected operation was fuzzed with at
    least one request on every engine whose server started, and sqlite always starts."""
    selected: dict[str, set[str]] = {}
    for item in request.session.items:
        if getattr(item, "originalname", "") == "test_api_fuzz":
            engine = item.callspec.params["fuzz_target"]  # type: ignore[attr-defined]
            selected.setdefault(engine, set()).add(item.nodeid)
    if selected.get("sqlite"):
        assert "sqlite" in COVERED, "the sqlite fuzz server never started"
    for engine, covered in COVERED.items():
        figures(f"schemathesis cases ({engine})", CASES.get(engine, 0))
        missing = sorted(selected.get(engine, set()) - covered)
        assert not missing, f"{engine}: operations that sent no request: {missing}"
        assert CASES.get(engine, 0) >= len(selected.get(engine, ()))
