"""The JSON API in-process: roles, uploads, jobs, reports, the review queue, decisions, exports."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import RIGHT_ANSWERS, WRONG_ANSWERS, bearer, drain, zip_bytes

from grader.service.auth import issue_token
from grader.service.core import Service

MAX_ID = 2**62


@pytest.fixture(scope="module")
def aid(client: TestClient, prof: dict[str, str]) -> str:
    response = client.post("/api/assignments", json={"rubric_path": "svc"}, headers=prof)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def graded(client: TestClient, service: Service, prof: dict[str, str], aid: str) -> dict[str, int]:
    """alice (wrong answers), bob (right ones), carol and dave (alice's proof, word for word), an unreadable file."""
    carol = WRONG_ANSWERS.replace("$$ x = 0.5 $$", "$$ x = 0.81 $$")
    files = [
        ("files", ("alice.md", WRONG_ANSWERS.encode())),
        ("files", ("class.zip", zip_bytes({"class/bob.md": RIGHT_ANSWERS.encode(), "class/carol.md": carol.encode(), "class/dave.md": WRONG_ANSWERS.encode()}))),
        ("files", ("erin.md", b"%PDF-1.7 not text")),
    ]
    response = client.post(f"/api/assignments/{aid}/submissions", files=files, headers=prof)
    assert response.status_code == 201, response.text
    assert drain(service) == 4
    return {s["name"]: s["id"] for s in response.json()["submissions"]}


def token(service: Service, role: str, subject: str, assignment: str | None = None) -> dict[str, str]:
    return bearer(issue_token(service.engine, role, subject, assignment))  # type: ignore[arg-type]


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path in ("/api/assignments", "/api/assignments/{aid}/submissions", "/api/submissions/{sid}/report", "/api/assignments/{aid}/review", "/api/assignments/{aid}/decisions", "/api/assignments/{aid}/exports/{kind}", "/api/assignments/{aid}/check"):
        assert path in paths, path
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert not any(p.startswith(("/assignments", "/check", "/login")) for p in paths), "pages are not API"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer grd_not-a-token"}, {"Authorization": "Basic abc"}])
def test_no_valid_token_is_401_with_what_to_do(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/assignments", headers=headers)
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_assignment_from_a_folder_and_from_uploaded_toml(client: TestClient, prof: dict[str, str], aid: str) -> None:
    assert client.get(f"/api/assignments/{aid}", headers=prof).json()["questions"] == ["1", "2", "3", "4"]
    text = (client.app.state.service.config.rubrics_root / "svc" / "rubric.toml").read_text()  # type: ignore[attr-defined]
    same = client.post("/api/assignments", json={"rubric_toml": text}, headers=prof)
    assert same.status_code == 201 and same.json()["id"] == aid, "the same rubric again is the same assignment"
    other = client.post("/api/assignments", json={"rubric_toml": text.replace("check_timeout_s = 20", "check_timeout_s = 19")}, headers=prof)
    assert other.status_code == 409 and "another version" in other.json()["detail"]
    copy = text.replace('id = "svc"', 'id = "svc-copy"', 1)
    made = client.post("/api/assignments", json={"rubric_toml": copy, "title": "Uploaded copy"}, headers=prof)
    assert made.status_code == 201 and made.json()["source"] == "upload" and made.json()["id"] == "uploaded-copy"


@pytest.mark.parametrize("path", ["../service", "/etc", "svc/../../..", "missing"])
def test_a_rubric_folder_outside_the_root_is_refused(client: TestClient, prof: dict[str, str], path: str) -> None:
    response = client.post("/api/assignments", json={"rubric_path": path}, headers=prof)
    assert response.status_code == 400
    assert "rubric" in response.json()["detail"]


def test_a_bad_rubric_gets_every_problem_with_where_and_how_to_fix(client: TestClient, prof: dict[str, str]) -> None:
    bad = '[assignment]\nid = "x"\ntitle = "x"\n[[questions]]\nid = "1"\npoints = 1\n[[questions.parts]]\nid = "a"\nkind = "symbolic"\npoints = 1\ntarget = "y"\nreference = "\\\\frac{1}{"\n'
    response = client.post("/api/assignments", json={"rubric_toml": bad}, headers=prof)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["file"] == "rubric.toml" and problem["question"] == "1" and problem["part"] == "a" and problem["fix"]


def test_uploads_are_graded_and_unreadable_files_stay_listed(client: TestClient, prof: dict[str, str], aid: str, graded: dict[str, int]) -> None:
    listed = {s["name"]: s for s in client.get(f"/api/assignments/{aid}/submissions", headers=prof).json()}
    assert sorted(listed) == ["alice.md", "bob.md", "carol.md", "dave.md", "erin.md"]
    assert listed["bob.md"]["state"] == "graded" and listed["bob.md"]["score"] == 9.5  # 8, and 1.5 proposed for the proof
    assert listed["erin.md"]["state"] == "unreadable" and listed["erin.md"]["problems"][0]["code"] == "submission.binary"
    progress = client.get(f"/api/assignments/{aid}/progress", headers=prof).json()
    assert progress == {"assignment_id": aid, "total": 5, "queued": 0, "running": 0, "graded": 4, "unreadable": 1, "needs_review": 4}
    report = client.get(f"/api/submissions/{graded['alice.md']}/report", headers=prof).json()
    assert report["submission"] == "alice.md" and report["questions"][1]["parts"][0]["evidence"], "instructors see the evidence"


def test_the_same_bytes_again_are_not_graded_again(client: TestClient, service: Service, prof: dict[str, str], aid: str, graded: dict[str, int]) -> None:
    again = client.post(f"/api/assignments/{aid}/submissions", files=[("files", ("alice.md", WRONG_ANSWERS.encode()))], headers=prof).json()
    assert again["already_received"] == [graded["alice.md"]]
    assert drain(service) == 0
    assert set(service.store.completion_counts(aid).values()) <= {0, 1}


def test_a_student_sees_only_their_own_and_no_reference(client: TestClient, service: Service, aid: str, graded: dict[str, int]) -> None:
    frank = token(service, "student", "frank", aid)
    mine = client.post(f"/api/assignments/{aid}/submissions", files=[("files", ("whatever.md", WRONG_ANSWERS.encode()))], headers=frank)
    assert mine.status_code == 201
    sid = mine.json()["submissions"][0]["id"]
    assert mine.json()["submissions"][0]["name"] == "frank.md"
    drain(service)
    assert [s["id"] for s in client.get(f"/api/assignments/{aid}/submissions", headers=frank).json()] == [sid]
    assert client.get(f"/api/submissions/{graded['alice.md']}", headers=frank).status_code == 404
    assert client.get(f"/api/submissions/{graded['alice.md']}/report", headers=frank).status_code == 404
    report = client.get(f"/api/submissions/{sid}/report", headers=frank)
    assert report.status_code == 200
    text = report.text.replace(" ", "")
    assert all(part["evidence"] == {} for q in report.json()["questions"] for part in q["parts"])
    for reference in ("0.8137", "\\\\frac{7}{13}", "\\frac{7}{13}"):
        assert reference not in text


def _status(client: TestClient, method: str, path: str, headers: dict[str, str], body: Any = None) -> int:
    return client.request(method, path, headers=headers, json=body).status_code


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "expected"),
    [
        ("student", "POST", "/api/assignments", {"rubric_path": "svc"}, 403),
        ("student", "GET", "/api/assignments/{aid}/review", None, 403),
        ("student", "GET", "/api/assignments/{aid}/progress", None, 403),
        ("student", "GET", "/api/assignments/{aid}/exports/grades", None, 403),
        ("student", "POST", "/api/assignments/{aid}/decisions", {"action": "accept", "items": [1]}, 403),
        ("student", "POST", "/api/tokens", {"role": "student", "subject": "x", "assignment_id": "svc"}, 403),
        ("student", "GET", "/api/assignments/uploaded-copy", None, 403),
        ("student", "GET", "/api/assignments/{aid}/attempts", None, 200),
        ("bot", "POST", "/api/assignments/{aid}/decisions", {"action": "accept", "items": [1]}, 403),
        ("bot", "POST", "/api/tokens", {"role": "bot", "subject": "x"}, 403),
        ("bot", "POST", "/api/assignments/{aid}/check", {"question": "2", "calc": "0.5"}, 403),
        ("bot", "GET", "/api/assignments/{aid}/review", None, 200),
        ("bot", "GET", "/api/assignments/{aid}/exports/grades", None, 200),
        ("bot", "GET", "/api/assignments/{aid}/progress", None, 200),
        ("instructor", "GET", "/api/assignments/{aid}/attempts", None, 200),
    ],
)
def test_role_boundaries(client: TestClient, service: Service, aid: str, graded: dict[str, int], role: str, method: str, path: str, body: Any, expected: int) -> None:
    headers = token(service, role, f"{role}-x", aid if role == "student" else None)
    assert _status(client, method, path.format(aid=aid), headers, body) == expected


def test_a_student_lists_only_their_assignment(client: TestClient, service: Service, aid: str) -> None:
    student = token(service, "student", "gina", aid)
    assert [a["id"] for a in client.get("/api/assignments", headers=student).json()] == [aid]


def _queue(client: TestClient, prof: dict[str, str], aid: str, by: str = "cluster") -> dict[str, Any]:
    response = client.get(f"/api/assignments/{aid}/review?by={by}&include_decided=true", headers=prof)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _decide(client: TestClient, prof: dict[str, str], aid: str, **body: Any) -> Any:
    return client.post(f"/api/assignments/{aid}/decisions", json=body, headers=prof)


def test_review_accept_override_cluster_undo_and_the_exports_follow(client: TestClient, service: Service, prof: dict[str, str], aid: str, graded: dict[str, int]) -> None:
    clusters = _queue(client, prof, aid)["clusters"]
    same = next(c for c in clusters if len(c["items"]) >= 3)  # alice, carol, dave (and frank) wrote the same proof
    assert {i["submission"] for i in same["items"]} >= {"alice.md", "carol.md", "dave.md"}
    decided = _decide(client, prof, aid, action="override", cluster=same["cluster"], score=2, comment="Right idea, no computation.")
    assert decided.status_code == 201, decided.text
    assert len(decided.json()) == len(same["items"]) and decided.json()[0]["reviewer"] == "prof"
    bob = next(i["item"] for i in _queue(client, prof, aid, "question")["items"] if i["submission"] == "bob.md")
    assert _decide(client, prof, aid, action="accept", items=[bob]).status_code == 201
    grades = client.get(f"/api/assignments/{aid}/exports/grades", headers=prof).text.splitlines()
    header = grades[0].split(",")
    rows = {line.split(",")[header.index("submission")]: dict(zip(header, line.split(","), strict=False)) for line in grades[1:]}
    assert rows["alice.md"]["4"] == "2" and rows["alice.md"]["total"] == "3"  # 1 + 0 + 0 + 2 from the person
    assert rows["bob.md"]["4"] == "1.5"
    report = client.get(f"/api/submissions/{graded['alice.md']}/report", headers=prof).json()
    assert report["score"] == 3
    undone = _decide(client, prof, aid, action="undo", items=[bob])
    assert undone.status_code == 201 and undone.json()[0]["action"] == "undo"
    assert _queue(client, prof, aid, "question")["open"] == 1
    book = service.book  # the very store grader review uses
    assert [i.submission for i in book.queue(book.assignment("svc"))] == ["bob.md"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "override", "items": [1], "score": 9, "comment": "x"}, "0 to"),
        ({"action": "override", "items": [1], "score": 1}, "comment"),
        ({"action": "accept", "items": [999999]}, "no item 999999"),
        ({"action": "accept"}, "name the ITEMs"),
    ],
)
def test_a_decision_that_cannot_apply_says_why(client: TestClient, prof: dict[str, str], aid: str, graded: dict[str, int], body: dict[str, Any], message: str) -> None:
    first = _queue(client, prof, aid, "question")["items"][0]["item"]
    body = {**body, "items": [first if i == 1 else i for i in body.get("items", [])]}
    response = client.post(f"/api/assignments/{aid}/decisions", json=body, headers=prof)
    assert response.status_code == 422 and message in response.json()["detail"], response.text


def test_canvas_needs_a_roster_then_exports(client: TestClient, prof: dict[str, str], aid: str, graded: dict[str, int]) -> None:
    missing = client.get(f"/api/assignments/{aid}/exports/canvas?canvas_assignment_id=1234", headers=prof)
    assert missing.status_code == 422 and "roster" in missing.json()["detail"]
    roster = "submission,name,id,sis_user_id,sis_login_id,section,email\n" + "".join(
        f"{n}.md,{n.title()},{i},S{i},{n},1,{n}@example.edu\n" for i, n in enumerate(["alice", "bob", "carol", "dave", "erin", "frank"], 1001)
    )
    assert client.put(f"/api/assignments/{aid}/roster", json={"csv": roster}, headers=prof).status_code == 204
    no_id = client.get(f"/api/assignments/{aid}/exports/canvas", headers=prof)
    assert no_id.status_code == 422 and "Canvas id" in no_id.json()["detail"]
    canvas = client.get(f"/api/assignments/{aid}/exports/canvas?canvas_assignment_id=1234&include_provisional=true", headers=prof)
    assert canvas.status_code == 200 and canvas.headers["content-type"].startswith("text/csv") and "Alice" in canvas.text and "(1234)" in canvas.text
    held = client.get(f"/api/assignments/{aid}/exports/moodle", headers=prof)
    assert held.status_code == 200 and int(held.headers["x-grader-held"]) >= 1, "provisional and unreadable ones are held back"
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/assignments/{aid}/exports/gradescope", headers=prof).content))
    assert {"setup.sh", "run_autograder"} <= set(archive.namelist())


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient, prof: dict[str, str], aid: str) -> None:
    limit = client.app.state.service.config.max_upload_bytes  # type: ignore[attr-defined]
    response = client.post(f"/api/assignments/{aid}/submissions", headers={**prof, "content-length": str(limit + 1), "content-type": "multipart/form-data; boundary=x"}, content=b"--x--")
    assert response.status_code == 413 and "larger than the server accepts" in response.json()["detail"]


@pytest.mark.parametrize("path", [f"/api/submissions/{MAX_ID + 1}", "/api/submissions/0", "/api/assignments/..%2F..", "/api/assignments/UPPER"])
def test_odd_ids_are_client_errors(client: TestClient, prof: dict[str, str], path: str) -> None:
    assert client.get(path, headers=prof).status_code in (404, 422)


def test_a_file_over_the_size_limit_is_listed_with_the_reason_and_never_stored(client: TestClient, service: Service, prof: dict[str, str], aid: str) -> None:
    from grader.input.open import MAX_BYTES
    from grader.service.db import submissions

    big = b"x" * (MAX_BYTES + 10)
    response = client.post(f"/api/assignments/{aid}/submissions", files=[("files", ("huge.md", big))], headers=prof)
    info = response.json()["submissions"][0]
    assert info["state"] == "unreadable" and info["problems"][0]["code"] == "submission.too_large" and info["size"] == len(big)
    with service.engine.connect() as conn:
        stored = conn.execute(submissions.select().where(submissions.c.id == info["id"])).first()
    assert stored is not None and stored.content is None
