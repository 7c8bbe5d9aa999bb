"""The API fuzzed from its own OpenAPI document (schemathesis): no input gives a server error.

Bounded: a fixed number of examples per operation, derandomized, against the app in-process,
with an instructor's token (the role that reaches every operation) and an assignment that has
graded submissions, so generated ids can hit real rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_helpers import (
    RIGHT_ANSWERS,
    WRONG_ANSWERS,
    close_service,
    drain,
    instructor,
    make_config,
    open_service,
)

from grader.service.app import create_app
from grader.service.core import Service

pytestmark = pytest.mark.slow
EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, str]]]:
    svc = open_service(make_config(tmp_path_factory.mktemp("fuzz")))
    yield svc, instructor(svc)
    close_service(svc)


@pytest.fixture(scope="module")
def api_schema(fuzzed: tuple[Service, dict[str, str]]) -> tuple[Any, str]:
    from fastapi.testclient import TestClient

    svc, prof = fuzzed
    app = create_app(svc.config, svc)
    client = TestClient(app, base_url="http://127.0.0.1")
    text = (svc.config.rubrics_root / "svc" / "rubric.toml").read_text().replace("check_timeout_s = 20", "check_timeout_s = 2")  # type: ignore[operator]
    aid = client.post("/api/assignments", json={"rubric_toml": text, "title": "a"}, headers=prof).json()["id"]
    files = [("files", ("alice.md", WRONG_ANSWERS.encode())), ("files", ("bob.md", RIGHT_ANSWERS.encode()))]
    client.post(f"/api/assignments/{aid}/submissions", files=files, headers=prof)
    drain(svc)
    return schemathesis.openapi.from_asgi("/openapi.json", app), aid


def test_no_input_gives_a_server_error(api_schema: tuple[Any, str], fuzzed: tuple[Service, dict[str, str]]) -> None:
    """Every operation, ``EXAMPLES`` generated requests each (schemathesis's strategies driven by hypothesis)."""
    _, prof = fuzzed
    errors: list[str] = []
    seen: dict[str, int] = {}
    schema, aid = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy(), real=st.booleans(), sid=st.sampled_from([1, 2]))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any, real: bool, sid: int) -> None:
            if real and case.path_parameters:  # half the requests name rows that exist
                case.path_parameters.update({k: v for k, v in (("aid", aid), ("sid", sid)) if k in case.path_parameters})
            response = case.call(headers=prof)
            seen[f"{case.method} {response.status_code}"] = seen.get(f"{case.method} {response.status_code}", 0) + 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        run()
    assert errors == []
    assert sum(n for outcome, n in seen.items() if outcome.endswith((" 200", " 201"))) >= 50, f"too few requests got through: {seen}"
