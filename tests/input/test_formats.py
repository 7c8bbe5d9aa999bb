"""The format comes from the file: its bytes first, its name between look-alike text formats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import nbformat
import pytest

from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import decode_submission, read_submission_text


def _word() -> bytes:
    document = docx.Document()
    document.add_paragraph("1.2 The answer")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _notebook() -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 1.2\n$x = 1$")]))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.md", b"## 1.2\n$x=1$\n", "markdown"),
        ("a.txt", b"1.2 x = 1\n", "text"),
        ("a.tex", b"\\section*{1.2}\n$x=1$\n", "latex"),
        ("a.md", b"\\documentclass{article}\n\\begin{document}\n\\end{document}\n", "latex"),
        ("a.ipynb", _notebook().encode(), "notebook"),
        ("notebook.json", _notebook().encode(), "notebook"),
        ("a.docx", _word(), "docx"),
        ("misnamed.md", _word(), "docx"),
    ],
)
def test_format_from_the_file(name: str, content: bytes, expected: str) -> None:
    read = decode_submission(content, name)
    assert isinstance(read, SubmissionText)
    assert read.format == expected


def test_a_zip_that_is_not_word_is_refused() -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    found = decode_submission(buffer.getvalue(), "a.docx")
    assert isinstance(found, SubmissionProblem)
    assert (found.code, found.message) == ("submission.binary", "the file is a ZIP archive (not a Word .docx document), not text")


def test_word_bytes_are_kept_for_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    path.write_bytes(_word())
    read = read_submission_text(path)
    assert isinstance(read, SubmissionText)
    assert (read.format, read.text, read.data[:2]) == ("docx", "", b"PK")
    assert json.dumps(read.sha256)
