"""Canvas, Moodle and Gradescope exports, and the roster they need: goldens and format checks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from report_samples import HOSTILE_NAME, ROSTER_CSV, alice, all_reports, bob, carol, roster, rubric

from grader.reports.exports import (
    CANVAS_COLUMNS,
    EXPORT_KINDS,
    canvas_csv,
    gradescope_json,
    gradescope_results,
    moodle_csv,
    write_exports,
)
from grader.reports.json_report import load_report, report_json
from grader.reports.roster import RosterError, load_roster, parse_roster


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ---------------------------------------------------------------- goldens


def test_golden_canvas(golden: Callable[[str, str], None]) -> None:
    golden("canvas.csv", canvas_csv(all_reports(), rubric(), roster()))


def test_golden_moodle(golden: Callable[[str, str], None]) -> None:
    golden("moodle.csv", moodle_csv(all_reports(), rubric(), roster()))


def test_golden_gradescope(golden: Callable[[str, str], None]) -> None:
    golden("gradescope_bob.json", gradescope_json(bob(), rubric()))


# ---------------------------------------------------------------- Canvas


def test_canvas_shape() -> None:
    reports = all_reports()
    rows = _rows(canvas_csv(reports, rubric(), roster()))
    assert rows[0] == [*CANVAS_COLUMNS, "Test assignment"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:5] == ["", "", "", ""] and rows[1][5] == "11"
    assert all(len(row) == 6 for row in rows)
    by_login = {row[3]: float(row[5]) for row in rows[2:]}
    scores = {roster().lookup(r.submission).sis_login_id: r.score for r in reports}  # type: ignore[union-attr]
    assert by_login == scores
    assert [row[0] for row in rows[2:]] == sorted(row[0] for row in rows[2:])  # sorted by student name


def test_canvas_names_cannot_become_spreadsheet_formulas() -> None:
    rows = _rows(canvas_csv(all_reports(), rubric(), roster()))
    hostile_row = next(row for row in rows if row[3] == "evil")
    assert hostile_row[:3] == ["'=HYPERLINK(1)", "1004", "S1004"]  # name neutralised, identifiers untouched


def test_canvas_assignment_column_with_id() -> None:
    rows = _rows(canvas_csv([bob()], rubric(), roster(), assignment_column="A3 (1234)"))
    assert rows[0][-1] == "A3 (1234)"
    assert rows[2] == ["Bob Builder", "1002", "S1002", "bbuilder", "Section 2", "3"]


# ---------------------------------------------------------------- Moodle


@pytest.mark.parametrize(
    ("roster_text", "identifier", "values"),
    [
        # everyone has an email: Moodle matches on "Email address"
        (
            "submission,email,id_number\nalice.md,alice@example.edu,S1\nbob.md,bob@example.edu,\n",
            "Email address",
            ["alice@example.edu", "bob@example.edu"],
        ),
        # one email missing: fall back to the ID number everyone has
        (
            "submission,Email address,ID number\nalice.md,alice@example.edu,S1\nbob.md,,S2\n",
            "ID number",
            ["S1", "S2"],
        ),
        ("submission,username\nalice.md,al\nbob.md,bo\n", "Username", ["al", "bo"]),
    ],
)
def test_moodle_identifier(roster_text: str, identifier: str, values: list[str]) -> None:
    rows = _rows(moodle_csv([alice(), bob()], rubric(), parse_roster(roster_text)))
    assert rows[0] == [identifier, "Test assignment"]
    assert [row[0] for row in rows[1:]] == values
    assert [row[1] for row in rows[1:]] == ["11", "3"]


def test_moodle_without_a_common_identifier() -> None:
    text = "submission,email,id_number\nalice.md,alice@example.edu,\nbob.md,,S2\n"
    with pytest.raises(RosterError) as error:
        moodle_csv([alice(), bob()], rubric(), parse_roster(text))
    assert error.value.problems[0].code == "roster.no_common_identifier"


# ---------------------------------------------------------------- Gradescope

GRADESCOPE_STATUSES = {"passed", "failed"}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.mark.parametrize("report", [alice, bob, carol])
def test_gradescope_round_trip(report: Callable[[], object]) -> None:
    native = load_report(report_json(report()))  # type: ignore[arg-type]
    results = json.loads(gradescope_json(native, rubric()))
    assert results["score"] == native.score
    assert [t["number"] for t in results["tests"]] == [q.id for q in native.questions]
    assert [t["score"] for t in results["tests"]] == [q.score for q in native.questions]
    assert [t["max_score"] for t in results["tests"]] == [q.max_score for q in native.questions]
    assert sum(t["max_score"] for t in results["tests"]) == native.max_score
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(native.score)
    for test in results["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in GRADESCOPE_STATUSES and test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert results["visibility"] in GRADESCOPE_VISIBILITY
    assert results["extra_data"]["status"] == native.status


@pytest.mark.parametrize(
    ("question", "status", "fragments"),
    [
        (
            "1",
            "failed",
            [
                "[lambda] partial: 1 / 3",
                "[lambda] read line 3: \\frac{p}{1-p}",
                "[effect] Your answer reads as",
            ],
        ),
        ("2", "failed", ["incorrect: 0 / 2", "2 entries differ"]),
        ("3", "failed", ["Needs a person's review", "not found: the log-det terms cancel"]),
    ],
)
def test_gradescope_test_output(question: str, status: str, fragments: list[str]) -> None:
    test = next(t for t in gradescope_results(bob(), rubric())["tests"] if t["number"] == question)
    assert test["status"] == status
    for fragment in fragments:
        assert fragment in test["output"]


def test_gradescope_never_shows_the_reference() -> None:
    text = gradescope_json(bob(), rubric())
    assert "\\frac{1-p}{p}" not in text and "λ decreases as p increases" not in text


# ---------------------------------------------------------------- write_exports


@pytest.mark.parametrize(
    ("kind", "reports", "written"),
    [
        ("canvas", [alice(), bob()], "canvas.csv"),
        ("moodle", [alice(), bob()], "moodle.csv"),
        ("gradescope", [bob()], "results.json"),
        ("gradescope", [alice(), bob()], "gradescope"),
    ],
)
def test_write_exports(tmp_path: Path, kind: str, reports: list[object], written: str) -> None:
    path = write_exports(kind, reports, rubric(), tmp_path, roster())  # type: ignore[arg-type]
    assert path == tmp_path / written
    if path.is_dir():
        assert sorted(p.name for p in path.iterdir()) == ["alice.json", "bob.json"]
        assert json.loads((path / "bob.json").read_text())["score"] == 3
    else:
        assert path.read_text(encoding="utf-8").strip()
    assert not [p for p in tmp_path.rglob(".*tmp*")]


def test_export_kinds() -> None:
    assert EXPORT_KINDS == ("canvas", "moodle", "gradescope")
    with pytest.raises(ValueError, match="unknown export"):
        write_exports("blackboard", [bob()], rubric(), Path("."), roster())


@pytest.mark.parametrize("kind", ["canvas", "moodle"])
def test_lms_exports_need_a_roster(kind: str) -> None:
    with pytest.raises(RosterError) as error:
        write_exports(kind, [bob()], rubric(), Path("."), None)
    assert error.value.problems[0].code == "roster.missing"
    assert "--roster" in (error.value.problems[0].fix or "")


def test_every_submission_needs_a_roster_row() -> None:
    partial = parse_roster("submission,id\nalice.md,1\n")
    with pytest.raises(RosterError) as error:
        canvas_csv([alice(), bob(), carol()], rubric(), partial)
    assert [p.code for p in error.value.problems] == ["roster.no_entry", "roster.no_entry"]
    assert "'bob.md'" in error.value.problems[0].message and "'carol.md'" in error.value.problems[1].message


def test_canvas_needs_a_canvas_identifier() -> None:
    with pytest.raises(RosterError) as error:
        canvas_csv([alice()], rubric(), parse_roster("submission,email\nalice.md,a@example.edu\n"))
    assert error.value.problems[0].code == "roster.no_identifier"


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


def test_load_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("\ufeff" + ROSTER_CSV, encoding="utf-8")
    assert load_roster(path) == parse_roster(ROSTER_CSV, source=str(path))
    with pytest.raises(RosterError) as error:
        load_roster(tmp_path / "missing.csv")
    assert error.value.problems[0].code == "roster.unreadable"
