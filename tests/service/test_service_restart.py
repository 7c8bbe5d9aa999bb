"""kill -9 of the server in the middle of a batch, a restart, and every submission graded exactly once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from live import LiveServer, session_processes
from service_helpers import WRONG_ANSWERS, zip_bytes

from grader.gradebook.book import open_gradebook
from grader.service.db import make_engine, metadata
from grader.service.store import Store

pytestmark = pytest.mark.slow
COUNT = 24


def _progress(server: LiveServer, aid: str) -> dict[str, int]:
    with server.client() as api:
        result: dict[str, int] = api.get(f"/api/assignments/{aid}/progress").json()
    return result


POSTGRES = os.environ.get("GRADER_TEST_POSTGRES_URL", "")


@pytest.mark.parametrize(
    "database",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES, reason="set GRADER_TEST_POSTGRES_URL to run it on PostgreSQL"))],
)
def test_a_batch_killed_mid_way_is_finished_after_a_restart_each_submission_once(tmp_path: Path, database: str) -> None:
    url = POSTGRES if database == "postgresql" else f"sqlite:///{tmp_path / 'data' / 'grader.db'}"
    server = LiveServer(tmp_path / "data", args=("--jobs", "1", "--db", url)).start()
    try:
        with server.client() as api:
            aid = api.post("/api/assignments", json={"rubric_path": "svc"}).json()["id"]
            entries = {f"s{n:02d}.md": WRONG_ANSWERS.replace("x = 0.5", f"x = 0.{n + 10}").encode() for n in range(COUNT)}
            uploaded = api.post(f"/api/assignments/{aid}/submissions", files=[("files", ("class.zip", zip_bytes(entries)))])
            assert uploaded.status_code == 201 and len(uploaded.json()["submissions"]) == COUNT
        deadline = time.monotonic() + 300
        while (progress := _progress(server, aid))["graded"] < 2:
            assert time.monotonic() < deadline, progress
            time.sleep(0.05)
        assert progress["graded"] < COUNT, "the batch finished before the kill: grade more submissions"
        group = server.process.pid  # type: ignore[union-attr]
        server.kill()
        deadline = time.monotonic() + 30
        while session_processes(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session_processes(group) == [], "the runner and its workers must die with the server"

        server.start()
        deadline = time.monotonic() + 600
        while (after := _progress(server, aid))["graded"] < COUNT:
            assert time.monotonic() < deadline, after
            time.sleep(0.2)
        assert after["queued"] == after["running"] == after["unreadable"] == 0
        with server.client() as api:
            again = api.post(f"/api/assignments/{aid}/submissions", files=[("files", ("class.zip", zip_bytes(entries)))]).json()
            assert len(again["already_received"]) == COUNT, "the same upload after the restart is recognised"
            scores = {s["name"]: s["score"] for s in api.get(f"/api/assignments/{aid}/submissions").json()}
        time.sleep(1.0)  # a late duplicate would be recorded within a poll
    finally:
        server.stop()
    store = Store(make_engine(url), tmp_path / "data")
    counts = store.completion_counts(aid)
    with open_gradebook(url) as book:
        rows = book.rows(book.assignment("svc"))
    assert sorted(row.submission for row in rows) == sorted(entries), "the gradebook holds each submission once"
    if database == "postgresql":
        metadata.drop_all(store.engine)
        with store.engine.begin() as conn:  # the gradebook's tables too: the next run starts empty
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    assert len(counts) == COUNT and set(counts.values()) == {1}, counts
    assert set(scores.values()) == {1.5 + 1}  # the formula's mistake (1) and the proposed proof points (1.5)
    assert not list((tmp_path / "data" / "spool").glob("*/*")), "no spooled file is left behind"
