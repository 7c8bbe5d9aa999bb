"""The pages in a real headless Chromium (Selenium with Debian's chromium-driver), against a real server.

Instructor: sign in, create an assignment from a rubric folder, upload files and a zip, watch the
progress script finish, open a report, decide a cluster in the review queue, download grades.csv.
Student: sign in with an issued token, check a pasted answer file, see feedback and no reference.
The browser's console must show no Content-Security-Policy violation: the pages work under it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live import LiveServer
from selenium.common.exceptions import WebDriverException
from service_helpers import RIGHT_ANSWERS, WRONG_ANSWERS, zip_bytes

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="headless Chromium and its driver are not installed (apt-get install -y chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("browser") / "data", args=("--jobs", "1")).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def _wait(condition: Any, timeout: float = 120.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except WebDriverException:  # the page is being replaced (the progress script reloads it)
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _sign_in(browser: Any, server: LiveServer, token: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()


def _csp_violations(browser: Any) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def _fetch(browser: Any, path: str) -> str:
    """A download as the signed-in browser sees it (fetch with its cookie, from its page)."""
    text: str = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done, e => done('ERROR ' + e));",
        path,
    )
    return text


def test_instructor_upload_grade_review_export_and_a_student_check(browser: Any, server: LiveServer, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _sign_in(browser, server, server.token)
    _wait(lambda: browser.current_url.endswith("/assignments"), what="the assignments page")

    Select(browser.find_element(By.ID, "rubric_path")).select_by_value("svc")
    browser.find_element(By.ID, "title").send_keys("Homework <b>5</b>")
    browser.find_element(By.CSS_SELECTOR, "#new-assignment button").click()
    _wait(lambda: "/assignments/homework-b-5-b" in browser.current_url, what="the new assignment")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Homework <b>5</b>"), "the title is shown as text"

    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "alice.md").write_text(WRONG_ANSWERS)
    (folder / "bob.md").write_text(RIGHT_ANSWERS)
    (folder / "more.zip").write_bytes(zip_bytes({"class/carol.md": WRONG_ANSWERS.encode(), "../escape.md": b"x"}))
    browser.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in sorted(folder.iterdir())))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button").click()
    result = _wait(lambda: browser.find_elements(By.ID, "upload-result"), what="the upload result")[0].text
    assert "3 file(s) recorded" in result and "its path leaves the archive" in result

    # progress.js polls and reloads the page once the batch is done
    _wait(lambda: "3 of 3 done" in browser.find_element(By.ID, "progress-text").text, timeout=300, what="grading to finish")
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#submissions td.state-graded")) == 3, what="the table after the reload")
    browser.find_element(By.LINK_TEXT, "alice.md").click()
    _wait(lambda: "alice.md" in browser.title, what="alice's report")
    assert "1 / 4" in browser.page_source.replace("\u2009", " ") or "Inverted" in browser.page_source
    browser.back()

    browser.find_element(By.LINK_TEXT, "Review queue").click()
    _wait(lambda: "Review queue" in browser.find_element(By.TAG_NAME, "h1").text, what="the review queue")
    cluster = next(s for s in browser.find_elements(By.CSS_SELECTOR, "section.cluster") if "2 submission(s)" in s.text)
    cluster.find_element(By.NAME, "score").send_keys("2")
    cluster.find_element(By.NAME, "comment").send_keys("Right idea; show the derivative.")
    cluster.find_element(By.CSS_SELECTOR, "button[value='override']").click()
    notice = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "p.notice"), what="the decision notice")[0].text
    assert notice == "2 decision(s) recorded"
    assert "decided 1.5 → 2 by instructor — “Right idea; show the derivative.”" in browser.find_element(By.TAG_NAME, "main").text

    grades = _fetch(browser, browser.current_url.split("/review")[0] + "/exports/grades")
    header, *lines = [line.split(",") for line in grades.splitlines()]
    rows = {row[header.index("submission")]: dict(zip(header, row, strict=False)) for row in lines}
    assert (rows["alice.md"]["4"], rows["alice.md"]["total"], rows["carol.md"]["4"], rows["bob.md"]["4"]) == ("2", "3", "2", "1.5"), grades

    # issue a student token on the tokens page, then sign in as the student
    browser.get(server.url + "/tokens")
    Select(browser.find_element(By.ID, "assignment_id")).select_by_value("homework-b-5-b")
    browser.find_element(By.ID, "names").send_keys("Dana Student")
    browser.find_element(By.CSS_SELECTOR, "#issue-form button").click()
    token = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#issued code.token"), what="the new token")[0].text
    assert token.startswith("grd_")
    assert _csp_violations(browser) == []

    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    _sign_in(browser, server, token)
    _wait(lambda: browser.current_url.endswith("/check/homework-b-5-b"), what="the student's check page")
    area = browser.find_element(By.ID, "text")
    browser.execute_script("arguments[0].value = arguments[1];", area, WRONG_ANSWERS)  # send_keys would auto-indent nothing, but is slow
    browser.find_element(By.CSS_SELECTOR, "#file-form button").click()
    score = _wait(lambda: browser.find_elements(By.ID, "score"), what="the self-check result")[0].text
    assert score == "1 / 11"
    page = browser.page_source.split('id="file-form"')[0]
    squeezed = re.sub(r"\s+", "", page)
    assert "0.8137" not in squeezed and "\\frac{7}{13}" not in squeezed
    assert "withheld" in page and "Your answer reads as: reverse." in page
    assert _csp_violations(browser) == []
    browser.get(server.url + "/assignments")
    assert "Not allowed" in browser.find_element(By.TAG_NAME, "h1").text, "a student cannot open instructor pages"


