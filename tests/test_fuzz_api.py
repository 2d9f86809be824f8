"""API fuzzing (issue 7, point 5): schemathesis generates requests for every operation of the
REST API's OpenAPI document and sends them, with a bearer token of one role, to a live server on
a copy of the demo data; no response may be a server error (5xx) or contradict the documented
response schema.

The OpenAPI document is the one FAB's ``/api/v1/_openapi`` would serve (``OpenApi.get``), built
here from the test session's app (the same views as the server): the product does not serve it
(``FAB_API_SWAGGER_UI`` is off, and FAB registers the route only with the Swagger UI).

Bounded for CI: ``MAX_EXAMPLES`` generated requests per operation and role, no shrinking, fixed
seed (``derandomize``) so a failure reproduces; every failure of a role is collected and reported
together (operation, check, request) instead of stopping at the first. Runs once, in the SQLite
pass: the server has its own SQLite database whatever ``TEST_DATABASE_URL`` says.
"""
from __future__ import annotations

import json
import os
import warnings
import urllib.request

import pytest

from tests.browser import server as live

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402

pytestmark = [
    pytest.mark.skipif(live.skip_reason() is not None, reason=live.skip_reason() or ""),
]

MAX_EXAMPLES = int(os.environ.get("GM_FUZZ_MAX_EXAMPLES", "8"))
ROLES = ["qiye1", "xiaodian", "shanxi", "national"]  # enterprise, county, province, national

# Operations not fuzzed, each with its reason.
EXCLUDED = {
    # Random logins count as failures: 30 from one address lock 127.0.0.1 out for 15 minutes
    # (LOGIN_ADDRESS_FAILURES), and with it every later login of the test session. Login, its
    # limits and the lock-out are tested in tests/test_security.py.
    ("POST", "/api/v1/security/login"),
    # Needs a refresh token, not the access token the fuzz sends; nothing to explore.
    ("POST", "/api/v1/security/refresh"),
}
# FAB's own user, role and permission APIs (/api/v1/security/...): only the admin role holds
# permissions on them, so for the fuzzed roles every request ends in FAB's 403 before any of
# our code runs; fuzzing them would spend a fifth of the time budget on one line of FAB.
EXCLUDED_PREFIXES = ("/api/v1/security/",)

# Checks: no server error, and every response that the document describes matches its schema.
# Not run: status_code_conformance (FAB documents only some of the codes its APIs return: 401,
# 403, 405, 413, 429 ... are left out of most operations), negative_data_rejection /
# positive_data_acceptance (the domain rules refuse many schema-valid bodies with 4xx on purpose,
# and several custom endpoints read their JSON leniently), content_type_conformance (file
# downloads are not described), response_headers_conformance / use_after_free /
# ensure_resource_availability (stateful checks that need links the document does not have).
CHECKS = [not_a_server_error, response_schema_conformance]

# Operations whose responses contradict their documented schema because of the app (to fix;
# until then only the server-error check runs on them).
SCHEMA_MISMATCH: set = set()  # none known

# Known server errors (bugs in the app, each with a request that triggers it): a 500 from these
# operations is reported as a warning, not a failure, until the bug is fixed and the entry
# removed. Any other 500 fails the test.
KNOWN_SERVER_ERRORS: dict = {
    # None known. (Fixed after the first run: huge ?page= in the notification API, ids of the
    # wrong kind in bodies — app.services.scoping.check_reference_types —, a huge application_id
    # in POST /review_meeting/{pk}/decide, a duplicate agency name.)
}


ANY_ID = {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def correct_fab_documentation(spec: dict) -> dict:
    """Correct what FAB 5.3 itself documents wrongly for every ModelRestApi, so that the rest of
    each response is still checked (each is FAB's docstring, not our code):

    - ``GET …/{pk}`` and ``POST …/`` (201): ``id`` is documented as a string, and ``GET …/``:
      ``ids`` as a list of strings; they are primary keys (integers; strings for regions).
    - ``GET …/_info``: ``add_columns`` and ``edit_columns`` are documented as objects; FAB
      returns lists of column descriptions.
    - ``format: date-time``: the API returns naive ISO timestamps without a UTC offset
      (``2026-11-21T15:30:34.060480``), which RFC 3339 date-time refuses. This one is ours
      (marshmallow DateTime on naive columns): listed in the report to fix.
    """
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if method == "post":
                created = (operation.get("responses", {}).get("201", {}).get("content", {})
                           .get("application/json", {}).get("schema", {}).get("properties", {}))
                if created.get("id", {}).get("type") == "string":
                    created["id"] = dict(ANY_ID)
            if method != "get":
                continue
            schema = (operation.get("responses", {}).get("200", {}).get("content", {})
                      .get("application/json", {}).get("schema", {}))
            properties = schema.get("properties", {})
            if path.endswith("/{pk}") and properties.get("id", {}).get("type") == "string":
                properties["id"] = dict(ANY_ID)
            if properties.get("ids", {}).get("items", {}).get("type") == "string":
                properties["ids"]["items"] = dict(ANY_ID)
            if path.endswith("/_info"):
                for key in ("add_columns", "edit_columns"):
                    if properties.get(key) == {"type": "object"}:
                        properties[key] = {"type": "array", "items": {"type": "object"}}

    def drop_datetime_format(node):
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                del node["format"]
            for value in node.values():
                drop_datetime_format(value)
        elif isinstance(node, list):
            for value in node:
                drop_datetime_format(value)

    drop_datetime_format(spec)
    return spec


def build_openapi(app) -> dict:
    """What FAB's ``OpenApi.get("v1")`` returns, for the given app."""
    from flask_appbuilder.api import BaseApi
    from flask_appbuilder.api.manager import OpenApi

    with app.test_request_context("/"):
        spec = OpenApi._create_api_spec("v1")
        for view in app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == "v1":
                view.add_api_spec(spec)
        return json.loads(json.dumps(spec.to_dict()))


@pytest.fixture(scope="module")
def fuzz_server():
    server = live.start_server("fuzz")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(fuzz_server):
    """One API token per fuzzed user (each logs in once)."""
    result = {}
    for username in ROLES:
        request = urllib.request.Request(
            fuzz_server.url + "/api/v1/security/login",
            data=json.dumps({"username": username, "password": live.DEMO_PASSWORD, "provider": "db"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result[username] = json.load(response)["access_token"]
    return result


@pytest.fixture(scope="module")
def api_schema(app, fuzz_server):
    schema = schemathesis.openapi.from_dict(correct_fab_documentation(build_openapi(app)))
    schema.config.update(base_url=fuzz_server.url)
    return schema


def _messages(exc) -> list[str]:
    """The first lines of each failure (schemathesis groups them)."""
    lines = []
    for failure in getattr(exc, "exceptions", None) or [exc]:
        text = [line.strip() for line in str(failure).strip().splitlines() if line.strip()]
        lines.append(" / ".join(text[:6])[:600])
    return lines


def _describe(case, exc) -> str:
    request = f"{case.method} {case.formatted_path}"
    if case.query:
        request += f" query={case.query!r}"
    if isinstance(case.body, (dict, list, str, int, float)):
        request += f" body={json.dumps(case.body, ensure_ascii=False, default=str)[:300]}"
    return f"{request}\n      " + "\n      ".join(_messages(exc))


    if isinstance(value, int):
        return abs(value) > INT64_MAX
    if isinstance(value, str):
        return value.lstrip("-").isdigit() and abs(int(value)) > INT64_MAX
    if isinstance(value, dict):
        return any(_has_huge_integer(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_huge_integer(v) for v in value)
    return False


def _is_server_error_only(exc) -> bool:
    return all(message.startswith("Server error") for message in _messages(exc))


def _fuzz_operation(operation, headers, base_url, failures: list, known: list) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    key = (operation.method.upper(), operation.path)
    checks = [not_a_server_error] if key in SCHEMA_MISMATCH else CHECKS
    unexpected: list[str] = []
    tolerated: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(case=operation.as_strategy())
    def run(case):
        try:
            case.call_and_validate(base_url=base_url, headers=headers, checks=checks, timeout=30)
        except (Exception, FailureGroup) as exc:  # collect every failing request, keep generating
            if _is_server_error_only(exc) and key in KNOWN_SERVER_ERRORS:
                tolerated.append(KNOWN_SERVER_ERRORS[key])
            elif len(unexpected) < 3:
                unexpected.append(_describe(case, exc))

    run()
    if unexpected:
        failures.append(f"{key[0]} {key[1]}\n    " + "\n    ".join(unexpected))
    for reason in sorted(set(tolerated)):
        known.append(f"{key[0]} {key[1]}: known server error: {reason}")


@pytest.mark.parametrize("username", ROLES)
def test_api_fuzz(api_schema, tokens, fuzz_server, username):
    """Every operation, MAX_EXAMPLES generated requests each, with ``username``'s token."""
    headers = {"Authorization": f"Bearer {tokens[username]}"}
    failures: list[str] = []
    known: list[str] = []
    count = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED or operation.path.startswith(EXCLUDED_PREFIXES):
            continue
        count += 1
        _fuzz_operation(operation, headers, fuzz_server.url, failures, known)
    assert count > 120, f"only {count} operations in the OpenAPI document"
    for message in known:
        warnings.warn(message)
    tracebacks = fuzz_server.log().count("Traceback (most recent call last)")
    assert not failures, (
        f"{len(failures)} of {count} operations failed for {username} "
        f"({tracebacks} tracebacks in {fuzz_server.log_path}):\n" + "\n".join(failures)
    )
