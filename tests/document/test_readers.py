"""Every format read from a real file made by a real tool: nbformat writes the notebook, pandoc
and python-docx write Word files, pandoc writes LaTeX from Markdown, and the blocks, their kinds
and line numbers are what the student wrote."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import docx
import nbformat
import pytest

from grader.answers.load import load_submission
from grader.answers.models import Submission
from grader.document.docx import pandoc_path
from grader.document.models import Document
from grader.document.read import read_document
from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import decode_submission, read_submission_text

MARKDOWN = """# Problem 1

**1.1** The coefficient is $\\lambda = \\frac{1-p}{p}$.

$$J^* = \\begin{pmatrix} 0 & 1 \\\\ 2 & 3 \\end{pmatrix}$$

1. first step
2. second step
"""


def _document(name: str, data: bytes) -> Document:
    read = decode_submission(data, name)
    assert isinstance(read, SubmissionText), read
    document = read_document(read)
    assert isinstance(document, Document), document
    return document


def _pandoc(source: str, to: str, src_format: str = "markdown") -> bytes:
    done = subprocess.run([pandoc_path(), "-f", src_format, "-t", to, "-o", "-", "--standalone"], input=source.encode(), capture_output=True, check=True)
    return done.stdout


def test_markdown_blocks_and_lines() -> None:
    document = _document("a.md", MARKDOWN.encode())
    kinds = [(b.kind, b.line, b.end_line, b.number) for b in document.blocks]
    assert kinds == [
        ("heading", 1, 1, None),
        ("paragraph", 3, 3, None),
        ("math", 5, 5, None),
        ("list_item", 7, 7, "1"),
        ("list_item", 8, 8, "2"),
    ]


def test_latex_from_pandoc_keeps_sections_items_and_math() -> None:
    tex = _pandoc(MARKDOWN, "latex").decode()
    document = _document("a.tex", tex.encode())
    assert document.format == "latex"
    by_kind = {b.kind for b in document.blocks}
    assert {"heading", "paragraph", "math", "list_item"} <= by_kind
    heading = next(b for b in document.blocks if b.kind == "heading")
    assert "Problem 1" in heading.text
    assert tex.split("\n")[heading.line - 1].lstrip().startswith("\\section")  # lines point into the .tex file
    items = [b for b in document.blocks if b.kind == "list_item"]
    assert [b.number for b in items] == ["1", "2"]
    assert "first step" in items[0].text and tex.split("\n")[items[0].line - 1].strip().startswith("\\item")


def test_handwritten_latex_labels_and_environments() -> None:
    tex = "\n".join(
        [
            "\\documentclass{article}",
            "\\begin{document}",
            "\\subsection*{1.2}",
            "We get \\textbf{the} result:",
            "\\begin{align*}",
            "  \\lambda &= \\frac{1-p}{p}",
            "\\end{align*}",
            "\\begin{enumerate}",
            "  \\item[(a)] less biased % a comment",
            "  \\item[(b)] faster",
            "\\end{enumerate}",
            "\\end{document}",
        ]
    )
    document = _document("a.tex", tex.encode())
    assert [(b.kind, b.line, b.number) for b in document.blocks] == [
        ("heading", 3, None),
        ("paragraph", 4, None),
        ("math", 5, None),
        ("list_item", 9, "(a)"),
        ("list_item", 10, "(b)"),
    ]
    assert document.blocks[1].text == "We get **the** result:"
    assert document.blocks[3].text.strip() == "(a) less biased"


def test_notebook_written_by_nbformat() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("## 1.1\nThe answer is $x = 1$."),
            nbformat.v4.new_code_cell("print('1.2 is not a label here')", outputs=[nbformat.v4.new_output("stream", text="42\n")]),
            nbformat.v4.new_markdown_cell("## 1.2\n$$y = 2$$"),
        ]
    )
    document = _document("a.ipynb", nbformat.writes(notebook).encode())
    assert [(b.kind, b.graded, b.cell) for b in document.blocks] == [
        ("heading", True, 1),
        ("paragraph", True, 1),
        ("code", False, 2),
        ("output", False, 2),
        ("heading", True, 3),
        ("math", True, 3),
    ]
    assert document.where(document.blocks[-1].line) == f"cell 3, line {document.blocks[-1].line}"


def test_word_from_python_docx() -> None:
    word = docx.Document()
    word.add_heading("Question 1", level=1)
    word.add_paragraph("1.1 The coefficient decreases as p increases.")
    word.add_paragraph("1.2 Amortized inference needs less memory.")
    buffer = io.BytesIO()
    word.save(buffer)
    document = _document("a.docx", buffer.getvalue())
    assert document.format == "docx"
    assert [b.kind for b in document.blocks] == ["heading", "paragraph", "paragraph"]
    assert document.blocks[2].text == "1.2 Amortized inference needs less memory."


def test_word_equations_become_latex() -> None:
    data = _pandoc(MARKDOWN, "docx")
    document = _document("a.docx", data)
    math = next(b for b in document.blocks if b.kind == "math")
    assert "\\begin{pmatrix}" in math.text and "J^{*}" in math.text
    assert "\\lambda = \\frac{1 - p}{p}" in document.text


def test_a_damaged_word_file_names_the_file() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><w:body><w:p>unclosed")
    read = decode_submission(buffer.getvalue(), "broken.docx")
    assert isinstance(read, SubmissionText) and read.format == "docx"
    found = read_document(read)
    assert isinstance(found, SubmissionProblem)
    assert (found.code, found.path) == ("input.unreadable_docx", "broken.docx")
    assert found.message.startswith("the Word document cannot be read")


def test_a_broken_notebook_names_the_file() -> None:
    read = decode_submission(b'{"cells": [ {"cell_type": ', "a.ipynb")
    assert isinstance(read, SubmissionText)
    found = read_document(read)
    assert isinstance(found, SubmissionProblem)
    assert found.code == "input.unreadable_notebook"
    assert "open it in Jupyter" in found.fix


def test_plain_text_has_no_code_and_no_emphasis() -> None:
    document = _document("a.txt", b"1.1 answer\n\n    indented prose, not code\n\n2) second\n")
    assert [(b.kind, b.number) for b in document.blocks] == [("paragraph", None), ("paragraph", None), ("list_item", "2")]
    assert document.blocks[1].text == "    indented prose, not code"


@pytest.mark.parametrize("suffix", [".md", ".txt", ".tex", ".ipynb", ".docx"])
def test_every_format_aligns_the_same_answers(tmp_path: Path, suffix: str) -> None:
    source = "## 1\n\n$$\\lambda = \\frac{p}{1-p}$$\n\n## 2\n\nI would use the reverse KL.\n"
    path = tmp_path / f"answers{suffix}"
    if suffix == ".ipynb":
        cells = [nbformat.v4.new_markdown_cell(part) for part in source.split("\n\n## ")]
        path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)).replace('"2\\n', '"## 2\\n'), encoding="utf-8")
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## 1\n\n$$\\lambda = \\frac{p}{1-p}$$"), nbformat.v4.new_markdown_cell("## 2\n\nI would use the reverse KL.")])
        path.write_text(nbformat.writes(notebook), encoding="utf-8")
    elif suffix == ".docx":
        path.write_bytes(_pandoc(source, "docx"))
    elif suffix == ".tex":
        path.write_bytes(_pandoc(source, "latex"))
    else:
        path.write_text(source, encoding="utf-8")
    loaded = load_submission(path, ["1", "2", "3"])
    assert isinstance(loaded, Submission), loaded
    assert loaded.answers["1"].status == "answered"
    assert "\\frac{p}{1" in loaded.answers["1"].text.replace(" ", "").replace("{1-p}", "{1-p}")
    assert loaded.answers["2"].text.strip().endswith("reverse KL.")
    assert loaded.answers["3"].status == "missing"
    assert read_submission_text(path).format == {".md": "markdown", ".txt": "text", ".tex": "latex", ".ipynb": "notebook", ".docx": "docx"}[suffix]
