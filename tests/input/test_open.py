"""Reading submission files: every refusal has a stable code and a one-line message for the student."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from grader.answers.load import load_submission
from grader.answers.models import Submission
from grader.errors import SubmissionError
from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import read_submission_text

ROOT = Path(__file__).resolve().parents[2]


def problem(path: Path, **kwargs: int) -> SubmissionProblem:
    result = read_submission_text(path, **kwargs)
    assert isinstance(result, SubmissionProblem)
    return result


def text_of(path: Path) -> SubmissionText:
    result = read_submission_text(path)
    assert isinstance(result, SubmissionText)
    return result


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf"])
def test_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(content)
    found = problem(path)
    assert found.code == "submission.empty"
    assert found.one_line() == f"{path}: the file is empty; write your answers in Markdown and submit again"


def test_not_found_and_folder(tmp_path: Path) -> None:
    missing = problem(tmp_path / "nope.md")
    assert missing.code == "submission.not_found"
    assert (
        missing.one_line()
        == f"{tmp_path / 'nope.md'}: there is no file here; check the file name and submit again"
    )
    folder = problem(tmp_path)
    assert (folder.code, folder.message) == ("submission.not_found", "this is a folder, not a file")


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(b"## 1.1\n\x00\x01\x02 answer")
    found = problem(path)
    assert found.code == "submission.binary"
    assert found.one_line() == (
        f"{path}: the file is not text (it contains binary data); "
        "save your answers as Markdown text (a .md file) and submit again"
    )


def test_binary_by_control_bytes(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(b"ab\x01\x02\x03\x04" * 100)
    assert problem(path).code == "submission.binary"


def test_pdf_is_named(tmp_path: Path) -> None:
    path = tmp_path / "answers.md"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    found = problem(path)
    assert (found.code, found.message) == ("submission.binary", "the file is a PDF document, not text")


def test_too_large_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse NUL bytes: if it were read, it would be called binary
    found = problem(path)
    assert found.code == "submission.too_large"
    assert found.one_line() == (
        f"{path}: the file is 50.0 MB, more than the 2.0 MB limit; "
        "submit only your answers as Markdown text, without embedded images or data"
    )
    assert problem(tmp_path / "huge.md", max_bytes=10).code == "submission.too_large"


def test_a_stray_invalid_byte_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(b"## 1.1\nna\xefve answer\n" + b"x" * 200)
    read = text_of(path)
    assert read.text.startswith("## 1.1\nna\ufffdve answer\n")
    assert read.warnings == (
        "line 2: byte 0xEF at offset 9 is not valid UTF-8 and was replaced by '\ufffd' "
        "(1 such byte in the file); check the text there",
    )


def test_mostly_invalid_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes("## 1.1\ncafé crème brûlée\n".encode("latin-1"))
    found = problem(path)
    assert found.code == "submission.encoding"
    assert found.one_line() == (
        f"{path}: the file is not UTF-8 text (4 of 25 bytes are invalid, the first on line 2); "
        "save the file with UTF-8 encoding and submit again"
    )


def test_line_ends_and_bom_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    data = "\ufeff## 1.1\r\nλ = 1\rend\n".encode()
    path.write_bytes(data)
    read = text_of(path)
    assert read.text == "## 1.1\nλ = 1\nend\n"
    assert read.sha256 == hashlib.sha256(data).hexdigest()
    assert read.size_bytes == len(data)
    assert read.warnings == ()


def test_problem_converts_to_the_project_error() -> None:
    found = SubmissionProblem(
        code="submission.empty", path="s.md", message="the file is empty", fix="write answers"
    )
    error = SubmissionError([found.to_problem()])
    assert str(error) == "s.md: the file is empty; write answers [submission.empty]"


def test_load_submission_keeps_the_file_hash_and_read_warnings(tmp_path: Path) -> None:
    seed = ROOT / "submissions" / "seed_student.md"
    loaded = load_submission(seed, ["1.1", "5.5"])
    assert isinstance(loaded, Submission)
    assert loaded.sha256 == hashlib.sha256(seed.read_bytes()).hexdigest()
    assert loaded.answers["1.1"].status == "answered"
    assert loaded.answers["5.5"].status == "missing"
    damaged = tmp_path / "d.md"
    damaged.write_bytes(b"## 1.1\n\xff ok\n" + b"y" * 200)
    loaded = load_submission(damaged, ["1.1"])
    assert isinstance(loaded, Submission)
    assert loaded.warnings[0].startswith("line 2: byte 0xFF at offset 7")
    assert isinstance(load_submission(tmp_path / "missing.md", ["1.1"]), SubmissionProblem)
