"""Which reader a file needs, told from its bytes first and its name second.

A student's file is often misnamed (a Word file saved as ``answers.md``, Markdown saved as
``.txt``), so the bytes decide where they can: a ZIP holding ``word/document.xml`` is Word, a
JSON object with ``cells`` is a notebook, ``\\documentclass`` is LaTeX. The extension decides
between the text formats that look alike.
"""

from __future__ import annotations

import io
import zipfile

from grader.input.models import Format

SUFFIXES: dict[str, Format] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".tex": "latex",
    ".latex": "latex",
    ".ipynb": "notebook",
    ".docx": "docx",
}
ZIP_SIGNATURE = b"PK\x03\x04"
_LATEX_OPENINGS = ("\\documentclass", "\\begin{document}", "\\section", "\\subsection", "\\begin{enumerate}")


def is_docx(data: bytes) -> bool:
    """A ZIP archive with a Word body (``word/document.xml``)."""
    if not data.startswith(ZIP_SIGNATURE):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def text_format(name: str, text: str) -> Format:
    """The format of a file that decoded as text."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    head = text.lstrip()[:4000]
    if suffix == ".ipynb" or (head.startswith("{") and '"cells"' in head and '"nbformat' in text[-4000:] + head):
        return "notebook"
    by_name = SUFFIXES.get(suffix)
    if by_name in ("latex", "text", "markdown"):
        if by_name != "latex" and _looks_like_latex(head):
            return "latex"
        return by_name
    return "latex" if _looks_like_latex(head) else "markdown"


def _looks_like_latex(head: str) -> bool:
    """A LaTeX document, not Markdown with formulas: it opens with a preamble or a sectioning command."""
    for line in head.splitlines()[:40]:
        stripped = line.strip()
        if not stripped or stripped.startswith("%"):
            continue
        return stripped.startswith(_LATEX_OPENINGS)
    return False
