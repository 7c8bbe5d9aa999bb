"""Issue 13 end to end through the CLI: grade, review (accept, override, a cluster), regrade an
edited submission (decisions kept and flagged), export final scores. Exact terminal output."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

RUBRIC = Path(__file__).parent / "fixtures" / "review"
ROOT = Path(__file__).resolve().parents[2]

RIGHT = "## 1\n$$o = \\frac{q}{1-q}$$\n\n## 2\nThe odds grow with q because the denominator shrinks.\n\n## 3\nIt is positive.\n"
WRONG = "## 1\n$$o = \\frac{1-q}{q}$$\n\n## 2\nIt is a ratio.\n\n## 3\nnegative\n"
ROSTER = (
    "submission,name,sis_user_id,sis_login_id,email\n"
    "ann.md,Ann Aa,S1,ann,ann@example.edu\n"
    "ben.md,Ben Bb,S2,ben,ben@example.edu\n"
    "cat.md,Cat Cc,S3,cat,cat@example.edu\n"
    "dan.md,Dan Dd,S4,dan,dan@example.edu\n"
)


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    """Four students, two pairs with identical answers, graded one at a time (stable ITEM ids)."""
    (tmp_path / "in").mkdir()
    for name, text in (("ann", RIGHT), ("ben", WRONG), ("cat", WRONG), ("dan", RIGHT)):
        (tmp_path / "in" / f"{name}.md").write_text(text, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", RUBRIC, "--out", out, "--jobs", 1, "--progress", "none", "--roster", tmp_path / "roster.csv")
    assert (code, stderr) == (0, "")
    return tmp_path


def _grades(out: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


def test_the_whole_review_loop(graded: Path) -> None:
    out = graded / "out"
    db = ["--db", out]
    assert run("review", "list", *db) == (
        0,
        "ITEM  SUBMISSION  QUESTION  PART  STATE    POINTS          ANSWER\n"
        "2     ann.md      2         why   pending  3 / 3 proposed  The odds grow with q because the denominator shrinks.\n"
        "5     ben.md      2         why   pending  0 / 3 proposed  It is a ratio.\n"
        "8     cat.md      2         why   pending  0 / 3 proposed  It is a ratio.\n"
        "11    dan.md      2         why   pending  3 / 3 proposed  The odds grow with q because the denominator shrinks.\n"
        "4 item(s): 4 pending\n",
        "",
    )
    assert run("review", "list", "--by", "cluster", *db)[1] == (
        "cluster 2: 2 why, 2 submission(s), proposed 3 / 3: The odds grow with q because the denominator shrinks.\n"
        "  items 2, 11: ann.md, dan.md\n"
        "cluster 5: 2 why, 2 submission(s), proposed 0 / 3: It is a ratio.\n"
        "  items 5, 8: ben.md, cat.md\n"
        "2 cluster(s), 4 item(s): 4 pending\n"
    )
    # Every submission waits for a person: provisional in grades.csv.
    assert {name: row["provisional"] for name, row in _grades(out).items()} == dict.fromkeys(["ann.md", "ben.md", "cat.md", "dan.md"], "yes")

    # A cluster accepted at once, one item overridden with a comment, another accepted.
    assert run("review", "accept", "--cluster", 2, "--reviewer", "alice", *db)[1] == (
        "accept item 2 (ann.md 2 why): 3 → 3 by alice\n"
        "accept item 11 (dan.md 2 why): 3 → 3 by alice\n"
        f"updated grades.csv, index.html and 2 page(s) in {out}\n"
    )
    assert run("review", "override", 5, "--score", 1, "--comment", "names a ratio, not why", "--reviewer", "bob", *db)[1] == (
        "override item 5 (ben.md 2 why): 0 → 1 by bob: names a ratio, not why\n"
        f"updated grades.csv, index.html and 1 page(s) in {out}\n"
    )
    assert run("review", "accept", 8, "--reviewer", "bob", *db)[0] == 0
    assert run("review", "list", *db)[1] == "nothing waits for review\n"
    grades = _grades(out)
    assert [(grades[n]["total"], grades[n]["provisional"], grades[n]["reviewed_by"]) for n in ("ann.md", "ben.md", "cat.md", "dan.md")] == [
        ("6", "no", "alice"),
        ("2", "no", "bob"),
        ("1", "no", "bob"),
        ("6", "no", "alice"),
    ]
    page = (out / "ben.html").read_text()
    assert "Reviewed by bob on " in page and ": 0 → 1 / 3</strong>: names a ratio, not why" in page
    assert "reviewed by bob" in (out / "index.html").read_text()

    # Ben edits the judged answer, Cat edits only another part: regrade.
    (graded / "in" / "ben.md").write_text(WRONG.replace("It is a ratio.", "It is a ratio of probabilities."), encoding="utf-8")
    (graded / "in" / "cat.md").write_text(WRONG.replace("negative", "positive"), encoding="utf-8")
    code, stdout, _ = run("grade", graded / "in", "--rubric", RUBRIC, "--out", out, "--jobs", 1, "--progress", "none", "--resume")
    assert code == 0
    assert stdout.splitlines()[-3:] == [
        "wrote 2 report(s) (2 already up to date), index.html and grades.csv to " + str(out),
        "review: kept 3 decision(s) whose answer did not change, flagged 1 whose answer changed",
        "  flagged item 5: ben.md 2 why: bob decided 1 for It is a ratio.; now It is a ratio of probabilities.",
    ]
    assert run("review", "list", *db)[1] == (
        "ITEM  SUBMISSION  QUESTION  PART  STATE    POINTS          ANSWER\n"
        "5     ben.md      2         why   flagged  0 / 3 proposed  It is a ratio of probabilities.\n"
        "1 item(s): 1 flagged\n"
    )
    shown = run("review", "show", 5, *db)[1]
    assert "flagged: bob decided 1 for a different answer: It is a ratio." in shown
    assert "override 0 → 1: names a ratio, not why" in shown
    grades = _grades(out)
    assert (grades["cat.md"]["total"], grades["cat.md"]["provisional"]) == ("2", "no")  # kept, and 3 now right
    assert (grades["ben.md"]["total"], grades["ben.md"]["provisional"]) == ("1", "yes")  # flagged: back to the machine's
    assert "1 decision(s) flagged: the answer changed" in grades["ben.md"]["note"]

    # Exports carry final scores; the flagged one is held back until a person decides again.
    code, stdout, _ = run("export", "canvas", "moodle", *db, "--canvas-assignment-id", 987)
    assert code == 0
    assert stdout == (
        f"wrote {out / 'canvas.csv'} (3 submission(s); held back 1)\n"
        "  held back ben.md: provisional: 1 part(s) wait for a person's review\n"
        f"wrote {out / 'moodle.csv'} (3 submission(s); held back 1)\n"
        "  held back ben.md: provisional: 1 part(s) wait for a person's review\n"
    )
    canvas = list(csv.reader((out / "canvas.csv").open()))
    assert canvas[0][-1] == "Review practice (987)"
    assert [(row[0], row[-1]) for row in canvas[2:]] == [("Ann Aa", "6"), ("Cat Cc", "2"), ("Dan Dd", "6")]

    # Bob decides again; then undoes it (a new row, not a delete); the history keeps all.
    assert run("review", "override", 5, "--score", 2, "--comment", "now says what it is", "--reviewer", "bob", *db)[0] == 0
    assert _grades(out)["ben.md"]["total"] == "3"
    assert run("review", "undo", "--reviewer", "bob", *db)[1].startswith("undid decision 5 on item 5 (ben.md 2 why)\n")
    listed = json.loads(run("review", "list", "--json", *db)[1])
    assert [(i["item"], i["state"]) for i in listed] == [(5, "flagged")]
    history = json.loads(run("review", "show", 5, "--json", *db)[1])["history"]
    assert [(h["action"], h["reviewer"], h["undoes"]) for h in history] == [("override", "bob", None), ("override", "bob", None), ("undo", "bob", 5)]


def test_json_on_every_review_command(graded: Path) -> None:
    db = ["--db", graded / "out"]
    made = json.loads(run("review", "accept", 2, "--reviewer", "ta", "--json", *db)[1])
    assert [(d["item"], d["action"], d["score"], d["reviewer"]) for d in made] == [(2, "accept", 3.0, "ta")]
    clusters = json.loads(run("review", "list", "--by", "cluster", "--json", *db)[1])
    assert [(c["cluster"], [i["item"] for i in c["items"]]) for c in clusters] == [(5, [5, 8]), (2, [11])]
    undone = json.loads(run("review", "undo", 2, "--reviewer", "ta", "--json", *db)[1])
    assert [(d["action"], d["undoes"]) for d in undone] == [("undo", made[0]["id"])]
    assert json.loads(run("review", "show", 2, "--json", *db)[1])["item"]["state"] == "pending"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["review", "override", 2, "--score", 4, "--comment", "x"], 1, "item 2 (ann.md, 2 why) is worth 0 to 3 points, not 4; pass --score between 0 and 3 [review.bad_score]"),
        (["review", "override", 2, "--score", 1, "--comment", " "], 1, "an override needs a comment saying why; add --comment 'why this score' [review.comment_required]"),
        (["review", "accept", 999], 1, "there is no item 999; see the ITEM ids with 'grader review list' [review.no_item]"),
        (["review", "undo", 2], 1, "item 2 has no decision in force; see its history with 'grader review show ITEM' [review.nothing_to_undo]"),
        (["review", "undo"], 1, "ta has no decision left to undo; undo another person's decision with: grader review undo ITEM [review.nothing_to_undo]"),
        (["review", "accept"], 2, "pass ITEM ids or --cluster C"),
    ],
)
def test_review_mistakes_are_one_clear_line(graded: Path, args: list[object], code: int, message: str) -> None:
    reviewer = ["--reviewer", "ta"] if args[1] in ("accept", "override", "undo") else []
    got, stdout, stderr = run(*args, *reviewer, "--db", graded / "out")
    assert got == code and stdout == ""
    assert message in stderr and "Traceback" not in stderr


def test_review_without_a_gradebook(tmp_path: Path) -> None:
    code, _, stderr = run("review", "list", "--db", tmp_path)
    assert code == 1
    assert stderr == "error: the gradebook holds no graded assignment yet; grade first: grader grade FILES --rubric DIR --out DIR [gradebook.empty]\n"


def test_reviewer_defaults_to_user(graded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "from-env")
    assert "by from-env" in run("review", "accept", 2, "--db", graded / "out")[1]


@pytest.mark.slow
def test_the_bundled_samples_reviewed(tmp_path: Path) -> None:
    """The README's sample run: every sample ends needs_review; a person closes one loop."""
    shutil.copytree(ROOT / "submissions", tmp_path / "submissions")
    out = tmp_path / "reports"
    code, stdout, _ = run("grade", tmp_path / "submissions", "--rubric", ROOT / "rubrics" / "a3", "--out", out, "--progress", "none")
    assert code == 0
    queue = json.loads(run("review", "list", "--json", "--db", out)[1])
    seed = [i for i in queue if i["submission"] == "seed_student.md"]
    assert seed and all(i["state"] == "pending" for i in seed)
    run("review", "accept", *[i["item"] for i in seed], "--reviewer", "ta", "--db", out)
    row = _grades(out)["seed_student.md"]
    assert (row["provisional"], row["reviewed_by"]) == ("no", "ta")
