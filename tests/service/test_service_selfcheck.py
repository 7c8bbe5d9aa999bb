"""Student self-checks: the feedback of ``grader check`` without any reference value, rate-limited and logged.

The leak test searches every response (JSON and page) for every reference the open rubric holds
(references, alternatives, definitions; whitespace ignored; as written, JSON-escaped and
HTML-escaped), after wrong answers of every sort: the rubric's own known mistakes (whose
unlocked feedback may state the answer), wrong values, unreadable formulas, whole files.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import ROOT, WRONG_ANSWERS, bearer, close_service, make_config, open_service

from grader.rubric.models import Rubric
from grader.service.app import create_app
from grader.service.auth import issue_token
from grader.service.config import Rate
from grader.service.core import Service
from grader.service.selfcheck import WITHHELD, question_feedback

SPACE = re.compile(r"\s+")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Service]]:
    svc = open_service(make_config(tmp_path_factory.mktemp("selfcheck"), check_rate=Rate(3, 3600)))
    with TestClient(create_app(svc.config, svc), base_url="http://127.0.0.1") as client:
        yield client, svc
    close_service(svc)


def _assignment(client: TestClient, svc: Service, **body: str) -> tuple[str, Rubric, dict[str, str]]:
    prof = bearer(issue_token(svc.engine, "instructor", "prof"))
    made = client.post("/api/assignments", json=body, headers=prof)
    assert made.status_code == 201, made.text
    aid = made.json()["id"]
    return aid, svc.loaded(aid).rubric, bearer(issue_token(svc.engine, "student", "sam", aid))


def every_reference(rubric: Rubric) -> set[str]:
    """Every answer text in the open rubric, found by field name in its data (not by the code under test)."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("reference", "alternatives", "definitions") or (isinstance(value, str) and key.endswith("(x)")):
            found.add(SPACE.sub("", value))

    for question in rubric.model_dump(mode="json")["questions"]:
        for part in question["parts"]:
            walk({k: v for k, v in part.items() if k in ("reference", "alternatives", "definitions")})
    return {ref for ref in found if len(ref) >= 3}


def leaks(text: str, refs: set[str]) -> list[str]:
    squeezed = SPACE.sub("", text)
    forms = {squeezed, SPACE.sub("", html.unescape(text)), SPACE.sub("", json.dumps(text))}
    decoded = squeezed.replace("\\\\", "\\")
    forms.add(decoded)
    return sorted(ref for ref in refs if any(ref in form for form in forms))


def wrong_inputs(rubric: Rubric) -> list[dict[str, str]]:
    """A known mistake, a wrong value and an unreadable formula for every math part; a wrong sentence for the others."""
    inputs: list[dict[str, str]] = []
    for question in rubric.questions:
        for part in question.parts:
            for mistake in getattr(part, "mistakes", []):
                if mistake.answer:
                    inputs.append({"question": question.id, "latex": mistake.answer})
            inputs += [
                {"question": question.id, "latex": "1"},
                {"question": question.id, "calc": "2*q + 1"},
                {"question": question.id, "latex": "\\frac{1}{"},
                {"question": question.id, "latex": "I think it is the reverse one, since it decreases."},
            ]
    return inputs


def test_the_oracle_finds_references_in_a_response_that_states_them(client: TestClient, service: Service) -> None:
    _, rubric, _ = _assignment(client, service, rubric_path="svc", title="oracle")
    refs = every_reference(rubric)
    assert "\\frac{7}{13}q^{2}" in refs and "0.8137" in refs
    assert leaks(json.dumps({"feedback": ["it is \\frac{7}{13} q^{2}"]}), refs) == ["\\frac{7}{13}q^{2}"]
    assert leaks("<p>it is 0.8137</p>", refs) == ["0.8137"]


@pytest.mark.slow
@pytest.mark.parametrize("rubric", ["svc", "a3"])
def test_no_response_states_a_reference(client: TestClient, service: Service, rubric: str) -> None:
    source = {"rubric_path": "svc", "title": "leaks svc"} if rubric == "svc" else {"rubric_toml": (ROOT / "rubrics/a3/rubric.toml").read_text(), "title": "leaks a3"}
    aid, open_rubric, student = _assignment(client, service, **source)
    refs = every_reference(open_rubric)
    assert len(refs) >= (2 if rubric == "svc" else 10)
    files = [WRONG_ANSWERS] if rubric == "svc" else [(ROOT / "submissions" / name).read_text() for name in ("sample_mistakes.md", "seed_student.md", "sample_headings.md")]
    withheld = 0
    for body in [*({"text": text} for text in files), *wrong_inputs(open_rubric)]:
        response = client.post(f"/api/assignments/{aid}/check", json=body, headers=student)
        assert response.status_code in (200, 422), (body, response.text)
        assert leaks(response.text, refs) == [], (body, response.text)
        withheld += response.text.count("withheld")  # by the sealed rubric, or by the service (WITHHELD)
    if rubric == "svc":
        assert withheld, "the rubric's hints state the answer: they must have been withheld"


def test_the_page_shows_feedback_without_references(client: TestClient, service: Service) -> None:
    aid, rubric, _ = _assignment(client, service, rubric_path="svc", title="page")
    token = issue_token(service.engine, "student", "pat", aid)
    client.cookies.clear()
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    page = client.get(f"/check/{aid}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    result = client.post(f"/check/{aid}", data={"csrf": csrf[1], "text": WRONG_ANSWERS})
    assert result.status_code == 200
    assert "Result:" in result.text and "1 / 11" in result.text
    assert leaks(result.text.split('<textarea id="text" name="text" rows="12">')[0], every_reference(rubric)) == []
    client.cookies.clear()


def test_feedback_stating_a_reference_is_withheld_whatever_the_sealed_rubric_kept() -> None:
    """The service's own net, under the sealed rubric's: a line holding a reference (spaces aside) goes."""
    question = {
        "id": "1", "title": "", "score": 1, "max_score": 4, "status": "partial", "feedback": ["Inverted: it is \\frac{7}{13}  q^{2}.", "Check the sign."],
        "parts": [{"id": "rate", "kind": "sealed-math", "status": "partial", "verdict": "wrong", "method": "m", "score": 1, "max_score": 4, "feedback": ["the value is 0.8137"]}],
    }
    shown = question_feedback([question], ("\\frac{7}{13}q^{2}", "0.8137"))[0]
    assert shown.feedback == [WITHHELD, "Check the sign."]
    assert shown.parts[0].feedback == [WITHHELD]


def test_checks_are_rate_limited_and_every_attempt_is_logged(limited: tuple[TestClient, Service]) -> None:
    client, svc = limited
    aid, _, student = _assignment(client, svc, rubric_path="svc")
    answers = [client.post(f"/api/assignments/{aid}/check", json={"question": "2", "calc": str(v)}, headers=student) for v in (0.1, 0.2, 0.3, 0.4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.json()["attempts_left"] for a in answers[:3]] == [2, 1, 0]
    assert "3 checks per 1 h" in answers[3].json()["detail"] and int(answers[3].headers["retry-after"]) > 3000
    logged = client.get(f"/api/assignments/{aid}/attempts", headers=student).json()
    assert [(a["outcome"], a["question"]) for a in logged] == [("checked", "2")] * 3 + [("refused", "2")]
    other = bearer(issue_token(svc.engine, "student", "other", aid))
    assert client.post(f"/api/assignments/{aid}/check", json={"question": "2", "calc": "1"}, headers=other).status_code == 200, "the limit is per student"
    assert client.get(f"/api/assignments/{aid}/attempts", headers=other).json()[0]["student"] == "other"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": "9", "calc": "1"}, 422, "no question '9'"),
        ({"question": "2"}, 422, "question with its answer"),
        ({"text": "x", "question": "2", "calc": "1"}, 422, "not both"),
        ({"text": "\x00\x01binary"}, 422, "not text"),
        ({"text": "   "}, 422, "empty"),
    ],
)
def test_what_cannot_be_checked_says_why(client: TestClient, service: Service, body: dict[str, str], status: int, message: str) -> None:
    aid = "svc" if service.store.assignment_row("svc") else _assignment(client, service, rubric_path="svc")[0]
    student = bearer(issue_token(service.engine, "student", "quinn", aid))
    response = client.post(f"/api/assignments/{aid}/check", json=body, headers=student)
    assert response.status_code == status and message in response.json()["detail"], response.text
