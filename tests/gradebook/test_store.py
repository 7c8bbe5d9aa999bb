"""The gradebook store through its Python API: migrations, decisions kept or flagged, undo, scores."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.answers.models import Extraction
from grader.checking.result import PartResult
from grader.gradebook.book import Gradebook, open_gradebook
from grader.gradebook.models import AssignmentInfo
from grader.gradebook.store import HEAD, GradebookError, database_url
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report
from grader.scoring.score import score_question

RUBRIC = Rubric.model_validate(
    {
        "assignment": {"id": "s1", "title": "Store test"},
        "questions": [
            {"id": "1", "points": 2, "parts": [{"id": "f", "kind": "symbolic", "points": 2, "target": "f", "reference": "x"}]},
            {"id": "2", "points": 4, "parts": [{"id": "essay", "kind": "manual", "points": 4}]},
        ],
    }
)


def _part(pid: str, answer: str, *, status: str = "needs_review", score: float = 1, max_score: float = 4) -> PartResult:
    return PartResult(
        id=pid,
        kind="manual",
        status=status,  # type: ignore[arg-type]
        verdict="undecided" if status == "needs_review" else "right",
        method="manual",
        score=score,
        max_score=max_score,
        proposed_score=score if status == "needs_review" else None,
        extracted=Extraction(question_id="2", part_id=pid, how="prose", text=answer),
    )


def report(name: str, essay: str, *, sha: str = "0" * 64, essay_max: float = 4) -> Report:
    right = PartResult(id="f", kind="symbolic", status="correct", verdict="right", method="symbolic", score=2, max_score=2,
                       extracted=Extraction(question_id="1", part_id="f", how="target_equation", latex="x"))  # fmt: skip
    questions: list[QuestionResult] = [
        score_question("1", "", 2, [right], (1, 1)),
        score_question("2", "", essay_max, [_part("essay", essay, max_score=essay_max)], (2, 2)),
    ]
    return Report(
        submission=name, rubric="s1", grader_version="t", submission_sha256=sha, rubric_sha256="r",
        score=sum(q.score for q in questions), max_score=2 + essay_max, status="needs_review", questions=questions,
    )  # fmt: skip


@pytest.fixture(params=[False, True], ids=["reading-stored-json", "keeping-reports"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Gradebook, AssignmentInfo]]:
    """Both ways of reading a report back: parsed from the store, or kept from recording (a batch)."""
    with open_gradebook(tmp_path, keep_reports=request.param) as book:
        yield book, book.set_assignment(RUBRIC, "r")


def test_a_new_store_is_migrated_to_the_newest_revision(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[2] / "grader" / "gradebook" / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
    open_gradebook(tmp_path).close()
    import sqlite3

    with sqlite3.connect(tmp_path / "gradebook.sqlite") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with open_gradebook(tmp_path / "gradebook.sqlite") as book:  # reopening migrates nothing, loses nothing
        assert book.assignments() == []


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////x/y.sqlite", "sqlite:////x/y.sqlite"),
    ],
)
def test_database_url(given: str, url: str) -> None:
    assert database_url(given) == url


def test_a_store_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GradebookError) as error:
        open_gradebook(tmp_path / "nowhere" / "g.sqlite")
    assert error.value.problems[0].code == "gradebook.unavailable"


def test_regrade_keeps_decisions_on_the_same_answer_and_flags_a_changed_one(store: tuple[Gradebook, AssignmentInfo]) -> None:
    book, assignment = store
    book.record_report(assignment, report("a.md", "Because it grows."))
    book.record_report(assignment, report("b.md", "Because it grows."))
    items = {i.submission: i.item for i in book.queue(assignment)}
    book.override([items["a.md"]], score=3, comment="good", reviewer="ann")
    book.accept([items["b.md"]], reviewer="ann")
    # a.md: the same answer in other words of whitespace/case: kept. b.md: a new answer: flagged.
    kept = book.record_report(assignment, report("a.md", "because  it GROWS.", sha="1" * 64))
    flagged = book.record_report(assignment, report("b.md", "Because it shrinks.", sha="2" * 64))
    assert [i.item for i in kept.kept] == [items["a.md"]] and kept.flagged == []
    assert [i.item for i in flagged.flagged] == [items["b.md"]] and flagged.kept == []
    rows = {r.submission: r for r in book.rows(assignment)}
    assert (rows["a.md"].score, rows["a.md"].provisional) == (5, False)
    assert (rows["b.md"].score, rows["b.md"].provisional, rows["b.md"].flagged) == (3, True, 1)
    assert rows["b.md"].report is not None and rows["b.md"].report.questions[1].status == "needs_review"


def test_a_changed_maximum_flags_the_decision(store: tuple[Gradebook, AssignmentInfo]) -> None:
    book, assignment = store
    book.record_report(assignment, report("a.md", "Same."))
    (item,) = book.queue(assignment)
    book.override([item.item], score=4, comment="full", reviewer="ann")
    outcome = book.record_report(assignment, report("a.md", "Same.", essay_max=3))
    assert [i.state for i in outcome.flagged] == ["flagged"]


def test_cluster_decisions_skip_what_a_person_decided(store: tuple[Gradebook, AssignmentInfo]) -> None:
    book, assignment = store
    for name in ("a.md", "b.md", "c.md"):
        book.record_report(assignment, report(name, "The same words."))
    items = [i.item for i in book.queue(assignment)]
    book.override([items[1]], score=0, comment="copied", reviewer="bo")
    made = book.accept(reviewer="al", cluster=items[0])
    assert sorted(d.item for d in made) == [items[0], items[2]]  # b.md keeps bo's decision
    with pytest.raises(GradebookError) as error:
        book.accept(reviewer="al", cluster=items[0])
    assert error.value.problems[0].code == "review.empty_cluster"


def test_undo_restores_the_earlier_decision_and_deletes_nothing(store: tuple[Gradebook, AssignmentInfo]) -> None:
    book, assignment = store
    book.record_report(assignment, report("a.md", "Text."))
    (item,) = book.queue(assignment)
    book.override([item.item], score=2, comment="first", reviewer="al")
    book.override([item.item], score=4, comment="second", reviewer="al")
    assert book.rows(assignment)[0].score == 6
    book.undo(reviewer="al")
    assert book.rows(assignment)[0].score == 4  # the first decision is in force again
    book.undo(reviewer="al", item=item.item)
    assert book.rows(assignment)[0].provisional
    assert [d.action for d in book.history(assignment)] == ["override", "override", "undo", "undo"]


def test_an_unreadable_regrade_keeps_the_history(store: tuple[Gradebook, AssignmentInfo]) -> None:
    book, assignment = store
    book.record_report(assignment, report("a.md", "Text."))
    (item,) = book.queue(assignment)
    book.accept([item.item], reviewer="al")
    outcome = book.record_unreadable(assignment, "a.md", reason="the file is empty")
    assert len(outcome.flagged) == 1
    (row,) = book.rows(assignment)
    assert (row.status, row.score, row.reason) == ("unreadable", None, "the file is empty")
    assert len(book.history(assignment)) == 1


def test_a_new_submission_is_stored_as_a_regrade_stores_it(tmp_path: Path) -> None:
    """A submission the store has not seen takes a short path; it must store what the general one does."""
    names = ("a.md", "b.md")
    (tmp_path / "new").mkdir()
    (tmp_path / "regraded").mkdir()
    with open_gradebook(tmp_path / "new") as fresh, open_gradebook(tmp_path / "regraded") as regraded:
        first, second = fresh.set_assignment(RUBRIC, "r"), regraded.set_assignment(RUBRIC, "r")
        for name in names:
            regraded.record_unreadable(second, name, reason="not yet")  # now known: the general path
            for book, assignment in ((fresh, first), (regraded, second)):
                outcome = book.record_report(assignment, report(name, "Because it grows.", sha="3" * 64), path=f"in/{name}")
                assert (outcome.kept, outcome.flagged) == ([], [])
        assert fresh.rows(first) == regraded.rows(second)
        assert fresh.queue(first) == regraded.queue(second)
        assert [row.score for row in fresh.rows(first)] == [3, 3]


def test_a_kept_report_is_never_read_in_place_of_a_newer_one(tmp_path: Path) -> None:
    with open_gradebook(tmp_path, keep_reports=True) as book:
        assignment = book.set_assignment(RUBRIC, "r")
        book.record_report(assignment, report("a.md", "First words."))
        book.record_report(assignment, report("a.md", "Second words.", sha="1" * 64))  # a regrade
        (row,) = book.rows(assignment)
        assert row.report is not None
        extracted = row.report.questions[1].parts[0].extracted
        assert extracted is not None and extracted.text == "Second words."


def _postgres() -> tuple[Path, Path] | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found or os.geteuid() == 0 and shutil.which("runuser") is None:
        return None
    return found[-1], found[-1].parent / "pg_ctl"


@pytest.mark.slow
def test_postgresql_by_url(tmp_path: Path) -> None:
    """The same store on a throwaway PostgreSQL server (skipped where PostgreSQL is not installed)."""
    pytest.importorskip("psycopg")
    binaries = _postgres()
    if binaries is None:
        pytest.skip("PostgreSQL's initdb is not installed")
    initdb, pg_ctl = binaries
    root = Path(tempfile.mkdtemp(prefix="grader-pg-"))  # outside pytest's root-only folder
    data = root / "pg"
    socket = root / "sock"
    socket.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(socket, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(initdb), "-D", str(data), "-A", "trust", "-U", "grader"], check=True, capture_output=True, timeout=120)
    options = f"-k {socket} -c listen_addresses='' -p 54329"
    subprocess.run([*as_postgres, str(pg_ctl), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"], check=True, capture_output=True, timeout=120)
    try:
        url = f"postgresql://grader@/postgres?host={socket}&port=54329"
        with open_gradebook(url) as book:
            assignment = book.set_assignment(RUBRIC, "r")
            book.record_report(assignment, report("a.md", "Text."))
            (item,) = book.queue(assignment)
            book.override([item.item], score=3, comment="pg", reviewer="al")
        time.sleep(0.1)
        with open_gradebook(url) as book:
            assert book.rows(book.assignment())[0].score == 5
    finally:
        subprocess.run([*as_postgres, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def test_the_migrations_build_the_tables_the_code_uses(tmp_path: Path) -> None:
    """No drift between grader/gradebook/tables.py and the Alembic migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from grader.gradebook.tables import Base

    with open_gradebook(tmp_path) as book, book.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
