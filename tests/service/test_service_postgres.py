"""The same store on PostgreSQL (``grader serve --db postgresql://...``): run when GRADER_TEST_POSTGRES_URL names
an empty database, e.g. ``postgresql://grader@127.0.0.1/grader_test`` (needs ``pip install 'grader[postgres]'``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    RIGHT_ANSWERS,
    WRONG_ANSWERS,
    bearer,
    close_service,
    drain,
    instructor,
    make_config,
    open_service,
)

from grader.service.app import create_app
from grader.service.auth import issue_token
from grader.service.core import Service
from grader.service.db import metadata

URL = os.environ.get("GRADER_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set GRADER_TEST_POSTGRES_URL to an empty PostgreSQL database to run these")


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Service]:
    svc = open_service(make_config(tmp_path, db_url=URL))
    yield svc
    metadata.drop_all(svc.engine)
    with svc.engine.begin() as conn:  # the gradebook's tables too: the next run starts empty
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    close_service(svc)


def test_grade_review_export_and_self_check_on_postgresql(pg: Service) -> None:
    prof = instructor(pg)
    with TestClient(create_app(pg.config, pg), base_url="http://127.0.0.1") as client:
        aid = client.post("/api/assignments", json={"rubric_path": "svc"}, headers=prof).json()["id"]
        files = [("files", ("alice.md", WRONG_ANSWERS.encode())), ("files", ("bob.md", RIGHT_ANSWERS.encode())), ("files", ("bad.md", b"\x00\x01"))]
        assert client.post(f"/api/assignments/{aid}/submissions", files=files, headers=prof).status_code == 201
        again = client.post(f"/api/assignments/{aid}/submissions", files=files[:1], headers=prof).json()
        assert len(again["already_received"]) == 1
        assert drain(pg) == 2
        progress = client.get(f"/api/assignments/{aid}/progress", headers=prof).json()
        assert (progress["graded"], progress["unreadable"], progress["needs_review"]) == (2, 1, 2)
        queue = client.get(f"/api/assignments/{aid}/review", headers=prof).json()["items"]
        alice = next(i["item"] for i in queue if i["submission"] == "alice.md")
        decided = client.post(f"/api/assignments/{aid}/decisions", json={"action": "override", "items": [alice], "score": 3, "comment": "ok"}, headers=prof)
        assert decided.status_code == 201
        alice_id = next(s["id"] for s in client.get(f"/api/assignments/{aid}/submissions", headers=prof).json() if s["name"] == "alice.md")
        assert client.get(f"/api/submissions/{alice_id}/report", headers=prof).json()["score"] == 4
        student = bearer(issue_token(pg.engine, "student", "sam", aid))
        assert client.post(f"/api/assignments/{aid}/check", json={"question": "2", "calc": "0.5"}, headers=student).status_code == 200
        assert [a["outcome"] for a in client.get(f"/api/assignments/{aid}/attempts", headers=student).json()] == ["checked"]
    assert set(pg.store.completion_counts(aid).values()) <= {0, 1}
