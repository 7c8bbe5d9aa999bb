"""A submission as a document: line-numbered blocks, whatever format it came in.

Every reader (Markdown, LaTeX, notebook, Word, plain text) produces the same model, so the
answers stage aligns blocks to questions without knowing the format. A block's ``text`` is
Markdown with its math kept as LaTeX between ``$``/``$$`` (or the LaTeX environments), and the
document's ``text`` holds every block at its line, so line numbers point into the student's own
file (for a notebook: into its cells in order; for Word: its paragraphs, one per line).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.input.models import Format

BlockKind = Literal["heading", "paragraph", "list_item", "math", "code", "output", "quote", "table"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Formula(_Frozen):
    """One piece of math found in the text; ``line`` is where its LaTeX begins, not its delimiter."""

    latex: str = Field(description="the content between the delimiters, whitespace-trimmed")
    line: int = Field(description="1-based line where the LaTeX starts")
    end_line: int = Field(description="1-based line where the LaTeX ends")
    display: bool = Field(description="display math ($$, \\[, equation-like environments) rather than inline")


class Block(_Frozen):
    """One block of the document: a heading, a paragraph, a list item, display math, code."""

    kind: BlockKind
    text: str = Field(description="Markdown with LaTeX math, one line per line of the source")
    line: int = Field(description="1-based first line (of Document.text)")
    end_line: int = Field(description="1-based last line")
    level: int = Field(default=0, description="heading level (1 = top) or list depth (1 = outermost)")
    number: str | None = Field(default=None, description="an ordered list item's number or label as written")
    graded: bool = Field(default=True, description="False for a notebook's code cells and outputs")
    cell: int | None = Field(default=None, description="1-based notebook cell")


class Document(_Frozen):
    path: str
    format: Format
    text: str = Field(description="the text every line number refers to")
    blocks: tuple[Block, ...]
    sha256: str
    warnings: tuple[str, ...] = ()

    def where(self, line: int, end_line: int | None = None) -> str:
        """``line 12``, ``lines 12-14``, or in a notebook ``cell 3, lines 12-14``; for people."""
        span = f"lines {line}-{end_line}" if end_line is not None and end_line > line else f"line {line}"
        if self.format == "notebook":
            cell = next((b.cell for b in self.blocks if b.line <= line <= b.end_line and b.cell), None)
            return f"cell {cell}, {span}" if cell else span
        if self.format == "docx":
            return span.replace("line", "paragraph")
        return span
