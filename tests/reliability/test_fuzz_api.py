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
CASES: dict[str, int] = {}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_target(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, str]]]:
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
    try:
        token = srv.cli("token", "create", "fuzz").strip()
        srv.cli("creator", "create", "--handle", "fuzzer")
        srv.cli("campaign", "create", "--name", "fuzz")
        srv.cli("link", "create", "--slug", "fuzz", "--destination", "https://shop.example.com/")
        yield srv, {"Authorization": f"Bearer {token}"}
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
    fuzz_target: tuple[Server, dict[str, str]],
    request: pytest.FixtureRequest,
) -> None:
    srv, auth = fuzz_target
    engine = request.node.callspec.params["fuzz_target"]
    CASES[engine] = CASES.get(engine, 0) + 1
    case.call_and_validate(base_url=srv.url, headers=auth, checks=CHECKS, timeout=30)


def test_fuzz_case_count(figures: Callable[[str, Any], None]) -> None:
    """Runs after the fuzzing (same module): records how many cases ran per engine."""
    for engine, n in CASES.items():
        figures(f"schemathesis cases ({engine})", n)
    assert sum(CASES.values()) > 0 or not CASES
