"""Canvas, Moodle and Gradescope exports from the gradebook store, checked against each format's docs.

Formats, as documented by each system (the tests below check what each page says):
- Canvas gradebook CSV: columns Student, ID, SIS User ID, SIS Login ID, Section, then one column per
  assignment named "Name (assignment id)"; a column without the id makes a new assignment.
  https://nemogb-dev.github.io/nemogb-r/articles/detailed-canvas-export-info.html
  https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades
- Moodle "Import grades > CSV file": a user column mapped from Email address / ID number /
  username, grade columns and feedback columns ("include both feedback and grades").
  https://docs.moodle.org/311/en/Grade_import ; an empty grade cell means "no grade"
  (moodle/grade/import/csv/classes/load_data.php, update_grade_item), so held-back rows are absent.
- Gradescope autograder: a zip with setup.sh and run_autograder at its root that writes
  /autograder/results/results.json; tests' "status" is "passed" or "failed" (a partial score may be
  marked passed), visibility "after_published" hides a test until grades are published, and
  hidden tests hide the total. https://gradescope-autograders.readthedocs.io/en/latest/specs/
- CSV injection: a cell starting with = + - @ tab or CR is prefixed with '.
  https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from report_samples import HOSTILE_NAME, alice, all_reports, bob, carol, hostile, roster, rubric

from grader.gradebook.book import Gradebook, open_gradebook
from grader.gradebook.models import AssignmentInfo, GradebookRow
from grader.reports.exports import (
    CANVAS_COLUMNS,
    EXPORT_KINDS,
    canvas_csv,
    gradescope_autograder,
    gradescope_json,
    gradescope_results,
    moodle_csv,
    write_exports,
)
from grader.reports.json_report import load_report, report_json
from grader.reports.roster import RosterError, parse_roster
from grader.scoring.models import Report

CANVAS_ID = "4321"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def book(tmp_path: Path) -> Iterator[tuple[Gradebook, AssignmentInfo]]:
    """The four sample reports in a store; alice's and bob's proofs accepted by a person."""
    with open_gradebook(tmp_path) as opened:
        assignment = opened.set_assignment(rubric(), "digest")
        for report in all_reports():
            entry = roster().lookup(report.submission)
            assert entry is not None
            opened.record_report(assignment, report, student_id=entry.student_id, student_name=entry.name, roster=entry.identifiers())
        for item in opened.queue(assignment):
            if item.submission in ("alice.md", "bob.md"):
                opened.accept([item.item], reviewer="ta")
        yield opened, assignment


def _store_rows(book: tuple[Gradebook, AssignmentInfo]) -> list[GradebookRow]:
    return book[0].rows(book[1])


# ---------------------------------------------------------------- goldens


def test_golden_canvas(golden: Callable[[str, str], None], book: tuple[Gradebook, AssignmentInfo]) -> None:
    golden("canvas.csv", canvas_csv(_store_rows(book), rubric(), assignment_id=CANVAS_ID, include_provisional=True)[0])


def test_golden_moodle(golden: Callable[[str, str], None], book: tuple[Gradebook, AssignmentInfo]) -> None:
    golden("moodle.csv", moodle_csv(_store_rows(book), rubric(), include_provisional=True)[0])


def test_golden_gradescope(golden: Callable[[str, str], None]) -> None:
    golden("gradescope_bob.json", gradescope_json(bob(), rubric()))


# ---------------------------------------------------------------- Canvas


def test_canvas_shape(book: tuple[Gradebook, AssignmentInfo]) -> None:
    rows = _store_rows(book)
    text, held = canvas_csv(rows, rubric(), assignment_id=CANVAS_ID)
    table = _rows(text)
    assert table[0] == [*CANVAS_COLUMNS, f"Test assignment ({CANVAS_ID})"]  # "Name (assignment id)"
    assert table[1][0].strip() == "Points Possible" and table[1][1:5] == ["", "", "", ""] and table[1][5] == "11"
    assert all(len(row) == 6 for row in table)
    # Final scores only: alice and bob were reviewed; carol and the hostile file still wait.
    assert {row[3]: float(row[5]) for row in table[2:]} == {"aliddell": 11.0, "bbuilder": 3.0}
    assert sorted((h.submission, h.reason.split(":")[0]) for h in held) == [("carol.md", "provisional"), (HOSTILE_NAME, "provisional")]


def test_canvas_sends_provisional_scores_only_when_asked(book: tuple[Gradebook, AssignmentInfo]) -> None:
    text, held = canvas_csv(_store_rows(book), rubric(), assignment_id=CANVAS_ID, include_provisional=True)
    assert len(_rows(text)) == 2 + 4 and held == []


def test_canvas_names_cannot_become_spreadsheet_formulas(book: tuple[Gradebook, AssignmentInfo]) -> None:
    table = _rows(canvas_csv(_store_rows(book), rubric(), assignment_id=CANVAS_ID, include_provisional=True)[0])
    hostile_row = next(row for row in table if row[3] == "evil")
    assert hostile_row[:3] == ["'=HYPERLINK(1)", "1004", "S1004"]


@pytest.mark.parametrize("bad", ["", "A3", "12a", "=1+1"])
def test_canvas_needs_a_numeric_assignment_id(book: tuple[Gradebook, AssignmentInfo], bad: str) -> None:
    with pytest.raises(Exception) as error:
        canvas_csv(_store_rows(book), rubric(), assignment_id=bad)
    assert error.value.problems[0].code == "export.canvas_assignment_id"  # type: ignore[attr-defined]


def test_canvas_needs_a_canvas_identifier(book: tuple[Gradebook, AssignmentInfo]) -> None:
    with pytest.raises(RosterError) as error:
        canvas_csv(_store_rows(book), rubric(), assignment_id=CANVAS_ID, roster=parse_roster("submission,email\nalice.md,a@e.du\nbob.md,b@e.du\n"))
    assert {p.code for p in error.value.problems} == {"roster.no_identifier"}


# ---------------------------------------------------------------- Moodle


def test_moodle_has_grade_and_feedback_columns(book: tuple[Gradebook, AssignmentInfo]) -> None:
    text, held = moodle_csv(_store_rows(book), rubric())
    table = _rows(text)
    assert table[0] == ["Email address", "Test assignment", "Test assignment feedback"]
    assert [row[:2] for row in table[1:]] == [["bob@example.edu", "3"], ["alice@example.edu", "11"]]
    assert table[2][2].startswith("11/11 points (1: 5/5; 2: 2/2; 3: 4/4). Reviewed by ta.")
    assert len(held) == 2  # held back rows are absent: an empty Moodle grade would erase one


@pytest.mark.parametrize(
    ("roster_text", "identifier", "values"),
    [
        ("submission,email,id_number\nalice.md,alice@example.edu,S1\nbob.md,bob@example.edu,\n", "Email address", ["alice@example.edu", "bob@example.edu"]),
        ("submission,Email address,ID number\nalice.md,alice@example.edu,S1\nbob.md,,S2\n", "ID number", ["S1", "S2"]),
        ("submission,username\nalice.md,al\nbob.md,bo\n", "Username", ["al", "bo"]),
    ],
)  # fmt: skip
def test_moodle_identifier(book: tuple[Gradebook, AssignmentInfo], roster_text: str, identifier: str, values: list[str]) -> None:
    rows = [r for r in _store_rows(book) if r.submission in ("alice.md", "bob.md")]
    table = _rows(moodle_csv(rows, rubric(), roster=parse_roster(roster_text))[0])
    assert table[0][0] == identifier
    assert sorted(row[0] for row in table[1:]) == values


def test_moodle_without_a_common_identifier(book: tuple[Gradebook, AssignmentInfo]) -> None:
    rows = [r for r in _store_rows(book) if r.submission in ("alice.md", "bob.md")]
    with pytest.raises(RosterError) as error:
        moodle_csv(rows, rubric(), roster=parse_roster("submission,email,id_number\nalice.md,alice@example.edu,\nbob.md,,S2\n"))
    assert error.value.problems[0].code == "roster.no_common_identifier"


# ---------------------------------------------------------------- Gradescope

GRADESCOPE_STATUSES = {"passed", "failed"}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.mark.parametrize("report", [alice, bob, carol])
def test_gradescope_round_trip(report: Callable[[], Report]) -> None:
    native = load_report(report_json(report()))
    results = json.loads(gradescope_json(native, rubric()))
    assert results["score"] == native.score
    assert [t["number"] for t in results["tests"]] == [q.id for q in native.questions]
    assert [t["score"] for t in results["tests"]] == [q.score for q in native.questions]
    assert sum(t["max_score"] for t in results["tests"]) == native.max_score
    for test in results["tests"]:
        assert test["status"] in GRADESCOPE_STATUSES and test["visibility"] in GRADESCOPE_VISIBILITY
    assert results["extra_data"]["status"] == native.status


@pytest.mark.parametrize(
    ("question", "status", "visibility", "fragments"),
    [
        ("1", "passed", "visible", ["[lambda] partial credit: 1 / 3", "[lambda] read line 3: \\frac{p}{1-p}"]),  # partial credit passes
        ("2", "failed", "visible", ["incorrect: 0 / 2", "2 entries differ"]),
        ("3", "passed", "after_published", ["Needs a person's review", "not found: the log-det terms cancel"]),
    ],
)
def test_gradescope_statuses_and_visibility(question: str, status: str, visibility: str, fragments: list[str]) -> None:
    test = next(t for t in gradescope_results(bob(), rubric())["tests"] if t["number"] == question)
    assert (test["status"], test["visibility"]) == (status, visibility)
    for fragment in fragments:
        assert fragment in test["output"]


def test_gradescope_never_shows_the_reference() -> None:
    text = gradescope_json(bob(), rubric())
    assert "\\frac{1-p}{p}" not in text and "λ decreases as p increases" not in text


def test_gradescope_zip_is_an_autograder(tmp_path: Path, book: tuple[Gradebook, AssignmentInfo]) -> None:
    data = gradescope_autograder(_store_rows(book), rubric())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "rubric.json", "gradebook.json", "grade_submission.py"} <= set(names)
        assert "grader_src/pyproject.toml" in names and "grader_src/grader/cli.py" in names
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111  # executable
        assert archive.read("run_autograder").startswith(b"#!")
        reviewed = json.loads(archive.read("gradebook.json"))
    sent = {r["extra_data"]["submission"] for r in reviewed.values()}
    assert sent and sent <= {"alice.md", "bob.md"}  # final ones only (the samples share one digest)
    for script in ("setup.sh", "run_autograder"):
        (tmp_path / script).write_bytes(zipfile.ZipFile(io.BytesIO(data)).read(script))
        assert subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True).returncode == 0
    assert gradescope_autograder(_store_rows(book), rubric()) == data  # deterministic bytes


@pytest.mark.slow
def test_gradescope_run_autograder_writes_results(tmp_path: Path, book: tuple[Gradebook, AssignmentInfo]) -> None:
    """Unpacked as Gradescope does (/autograder/source), the script writes results/results.json."""
    root = tmp_path / "autograder"
    zipfile.ZipFile(io.BytesIO(gradescope_autograder(_store_rows(book), rubric()))).extractall(root / "source")
    submission = root / "submission"
    submission.mkdir()
    (submission / "answers.md").write_text("## 1\n$\\lambda = \\frac{1-p}{p}$\nλ decreases as p increases\n", encoding="utf-8")
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root)}
    done = subprocess.run([sys.executable, str(root / "source" / "grade_submission.py")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["tests"][0]["number"] == "1" and results["tests"][0]["status"] == "passed"
    assert {t["visibility"] for t in results["tests"] if t["number"] == "3"} == {"visible"}  # missing: decided
    assert all(t["status"] in GRADESCOPE_STATUSES for t in results["tests"])


# ---------------------------------------------------------------- write_exports


@pytest.mark.parametrize(("kind", "written"), [("canvas", "canvas.csv"), ("moodle", "moodle.csv"), ("gradescope", "gradescope_autograder.zip")])
def test_write_exports(tmp_path: Path, book: tuple[Gradebook, AssignmentInfo], kind: str, written: str) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    result = write_exports(kind, _store_rows(book), rubric(), out, canvas_assignment_id=CANVAS_ID)
    assert result.path == out / written and result.path.stat().st_size > 0
    assert result.written == 2
    assert not [p for p in out.rglob(".*tmp*")]


def test_export_kinds() -> None:
    assert EXPORT_KINDS == ("canvas", "moodle", "gradescope")
    with pytest.raises(ValueError, match="unknown export"):
        write_exports("blackboard", [], rubric(), Path("."))


@pytest.mark.parametrize("kind", ["canvas", "moodle"])
def test_lms_exports_need_a_roster(tmp_path: Path, kind: str) -> None:
    with open_gradebook(tmp_path) as store:
        assignment = store.set_assignment(rubric(), "digest")
        store.record_report(assignment, bob())
        rows = store.rows(assignment)
    with pytest.raises(RosterError) as error:
        write_exports(kind, rows, rubric(), tmp_path, None, canvas_assignment_id=CANVAS_ID, include_provisional=True)
    assert error.value.problems[0].code == "roster.missing"
    assert "--roster" in (error.value.problems[0].fix or "")


# ---------------------------------------------------------------- roster


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        ("alice.md", "Liddell, Alice"),  # the file name as written
        ("bob.md", "Bob Builder"),  # the roster names the stem
        ("carol.md", "Carol <Danvers>"),  # the roster names a path
        (HOSTILE_NAME, "=HYPERLINK(1)"),
        ("dave.md", None),
    ],
)
def test_roster_lookup(submission: str, expected: str | None) -> None:
    entry = roster().lookup(submission)
    assert (entry.name if entry else None) == expected


def test_roster_prefers_the_exact_file_name() -> None:
    two = parse_roster("submission,name\nalice.md,Markdown Alice\nalice.txt,Text Alice\n")
    assert two.lookup("alice.md").name == "Markdown Alice"  # type: ignore[union-attr]
    assert two.lookup("alice.tex") is None  # two candidates by stem: ambiguous


@pytest.mark.parametrize(
    ("exports", "names", "codes"),
    [
        (["canvas"], ["alice.md", "bob.md", "zed.md"], ["roster.no_entry"]),
        (["moodle"], ["alice.md", "bob.md"], []),
        ([], ["alice.md", "nobody.md"], ["roster.no_entry"]),
        (["canvas", "moodle"], ["alice.md", "zed.md"], ["roster.no_entry"]),
    ],
)
def test_roster_is_checked_before_grading(exports: list[str], names: list[str], codes: list[str]) -> None:
    if not codes:
        roster().check(names, exports)
        return
    with pytest.raises(RosterError) as error:
        roster().check(names, exports)
    assert [p.code for p in error.value.problems] == codes


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)"])
def test_roster_identifiers_that_are_formulas_are_refused(value: str) -> None:
    text = 'submission,name,sis_user_id\nalice.md,Alice,"' + value.replace('"', '""') + '"\n'
    with pytest.raises(RosterError) as error:
        parse_roster(text, source="r.csv")
    assert error.value.problems[0].code == "roster.invalid" and "formula" in error.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "code_or_fields"),
    [
        ("\ufeffSubmission,Student,SIS User ID,SIS Login ID,Section,Email Address,ID Number\nx.md,X,S1,xl,1,x@e.du,N1\n",
         {"name": "X", "sis_user_id": "S1", "sis_login_id": "xl", "section": "1", "email": "x@e.du", "id_number": "N1"}),
        ("file,canvas-id,ignored column\nx.md,42,whatever\n", {"canvas_id": "42"}),
        ("submission,name\n\nx.md,X\n,\n", {"name": "X"}),  # blank lines skipped
        ("", "roster.invalid"),
        ("name,email\nX,x@e.du\n", "roster.invalid"),
        ("submission,name,student\nx.md,X,Y\n", "roster.invalid"),  # two columns for the name
        ("submission,name\nx.md,X\nx.md,Y\n", "roster.invalid"),
        ("submission,name\n,X\n", "roster.invalid"),
    ],
)  # fmt: skip
def test_parse_roster(text: str, code_or_fields: str | dict[str, str]) -> None:
    if isinstance(code_or_fields, str):
        with pytest.raises(RosterError) as error:
            parse_roster(text, source="r.csv")
        assert error.value.problems[0].code == code_or_fields
        assert error.value.problems[0].file == "r.csv"
        return
    (entry,) = parse_roster(text).entries
    for name, value in code_or_fields.items():
        assert getattr(entry, name) == value


def test_hostile_report_is_in_the_store_as_sent(book: tuple[Gradebook, AssignmentInfo]) -> None:
    row = next(r for r in _store_rows(book) if r.submission == HOSTILE_NAME)
    assert row.report is not None and row.report.questions == hostile().questions


def test_load_roster(tmp_path: Path) -> None:
    from report_samples import ROSTER_CSV

    from grader.reports.roster import load_roster

    path = tmp_path / "roster.csv"
    path.write_text("\ufeff" + ROSTER_CSV, encoding="utf-8")
    assert load_roster(path) == parse_roster(ROSTER_CSV, source=str(path))
    with pytest.raises(RosterError) as error:
        load_roster(tmp_path / "missing.csv")
    assert error.value.problems[0].code == "roster.unreadable"
