"""A submission's document, by the reader its format needs; a file no reader can use gets a
problem naming it and what to do."""

from __future__ import annotations

from grader.document.docx import DocxError, docx_blocks
from grader.document.markdown import markdown_blocks
from grader.document.models import Block, Document
from grader.document.notebook import NotebookError, notebook_blocks
from grader.document.plaintext import text_blocks
from grader.document.tex import tex_blocks
from grader.input.models import SubmissionProblem, SubmissionText

_WORD_FIX = "open it in Word and save it again as .docx, or submit your answers as Markdown"
_NOTEBOOK_FIX = "open it in Jupyter, save it, and submit the .ipynb file again"


def read_document(source: SubmissionText, *, timeout_s: float = 30.0) -> Document | SubmissionProblem:
    text = source.text
    warnings = list(source.warnings)
    blocks: list[Block]
    if source.format == "docx":
        try:
            text, blocks = docx_blocks(source.data, timeout_s=timeout_s)
        except DocxError as error:
            return SubmissionProblem(code="input.unreadable_docx", path=source.path, message=f"the Word document cannot be read: {error}", fix=_WORD_FIX)
    elif source.format == "notebook":
        try:
            text, blocks = notebook_blocks(text)
        except NotebookError as error:
            return SubmissionProblem(code="input.unreadable_notebook", path=source.path, message=f"the notebook cannot be read: {error}", fix=_NOTEBOOK_FIX)
    elif source.format == "latex":
        try:
            text, blocks = tex_blocks(text)
        except (RecursionError, ValueError, IndexError, AttributeError, TypeError) as error:
            warnings.append(f"the LaTeX structure could not be read ({type(error).__name__}); the file was read as plain text")
            blocks = text_blocks(text)
    elif source.format == "text":
        blocks = text_blocks(text)
    else:
        try:
            blocks = markdown_blocks(text)
        except RecursionError:
            warnings.append("the Markdown structure is nested too deeply; the file was read as plain text")
            blocks = text_blocks(text)
    return Document(
        path=source.path,
        format=source.format,
        text=text,
        blocks=tuple(blocks),
        sha256=source.sha256,
        warnings=tuple(warnings),
    )
