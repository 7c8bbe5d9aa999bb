"""The pages without a browser: sign-in cookies, CSRF and origin checks, security headers, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from grader.service.auth import issue_token
from grader.service.core import Service
from grader.service.deps import SESSION_COOKIE


@pytest.fixture
def signed_in(client: TestClient, service: Service) -> tuple[TestClient, str]:
    client.cookies.clear()
    response = client.post("/login", data={"token": issue_token(service.engine, "instructor", "Prof <X>")}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/assignments").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    return client, csrf[1]


def test_the_session_cookie_is_httponly_and_strict(client: TestClient, service: Service) -> None:
    client.cookies.clear()
    response = client.post("/login", data={"token": issue_token(service.engine, "instructor", "p")}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie


@pytest.mark.parametrize("token", ["", "grd_unknown", "not a token"])
def test_a_bad_token_does_not_sign_in(client: TestClient, token: str) -> None:
    client.cookies.clear()
    response = client.post("/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 401 and "unknown or revoked" in response.text and SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_bot_token_is_for_the_api_only(client: TestClient, service: Service) -> None:
    client.cookies.clear()
    assert client.post("/login", data={"token": issue_token(service.engine, "bot", "ci")}, follow_redirects=False).status_code == 401


def test_forms_without_the_csrf_token_are_refused(signed_in: tuple[TestClient, str]) -> None:
    client, csrf = signed_in
    assert client.post("/tokens", data={"role": "bot", "names": "x"}).status_code == 403
    assert client.post("/tokens", data={"role": "bot", "names": "x", "csrf": "forged"}).status_code == 403
    assert client.post("/tokens", data={"role": "bot", "names": "x", "csrf": csrf}).status_code == 200


def test_forms_from_another_site_are_refused(signed_in: tuple[TestClient, str]) -> None:
    client, csrf = signed_in
    response = client.post("/tokens", data={"role": "bot", "names": "x", "csrf": csrf}, headers={"origin": "https://evil.example"})
    assert response.status_code == 403 and "another site" in response.text


def test_pages_carry_a_strict_policy_and_escape_names(signed_in: tuple[TestClient, str]) -> None:
    client, _ = signed_in
    response = client.get("/assignments")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Prof &lt;X&gt;" in response.text and "Prof <X>" not in response.text
    assert "<script" not in response.text, "the list page needs no script"


def test_signed_out_pages_say_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/assignments")
    assert response.status_code == 401 and 'href="/login"' in response.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_student_session_cannot_open_instructor_pages(client: TestClient, service: Service) -> None:
    client.cookies.clear()
    client.post("/login", data={"token": issue_token(service.engine, "student", "s", None)})
    assert client.get("/assignments").status_code == 403
    assert client.get("/tokens").status_code == 403


def test_report_pages_allow_their_one_style_block_and_no_script(signed_in: tuple[TestClient, str], service: Service) -> None:
    import base64
    import hashlib

    from service_helpers import WRONG_ANSWERS, drain, instructor

    client, _ = signed_in
    prof = instructor(service)
    aid = client.post("/api/assignments", json={"rubric_path": "svc", "title": "pages"}, headers=prof).json()["id"]
    client.post(f"/api/assignments/{aid}/submissions", files=[("files", ("o'brien&co.md", WRONG_ANSWERS.encode()))], headers=prof)
    drain(service)
    for path in (f"/assignments/{aid}/reports/", f"/assignments/{aid}/reports/o'brien%26co.html"):
        response = client.get(path)
        assert response.status_code == 200, path
        style = re.search(r"<style>(.*?)</style>", response.text, re.S)
        assert style is not None
        digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
        policy = response.headers["content-security-policy"]
        assert f"style-src 'sha256-{digest}'" in policy and "script-src" not in policy and "default-src 'none'" in policy
    listing = client.get(f"/assignments/{aid}").text
    assert "o&#39;brien&amp;co.md</a>" in listing and "/reports/o%27brien%26co.html" in listing
