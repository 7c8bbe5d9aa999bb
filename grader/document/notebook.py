"""A Jupyter notebook into blocks, by nbformat: Markdown cells are read and graded; code cells
and their text outputs are kept (for the report) but never graded.

The document's text is the cells in order, a blank line between two cells, code and outputs
fenced, so every line number names one line of one cell.
"""

from __future__ import annotations

from typing import Any

from grader.document.markdown import markdown_blocks
from grader.document.models import Block

_OUTPUT_LINES = 40


class NotebookError(ValueError):
    """The file is not a notebook nbformat can read."""


def notebook_blocks(text: str) -> tuple[str, list[Block]]:
    try:
        import nbformat  # on first use: it loads jsonschema, which a Markdown file never needs

        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and version errors of many types
        raise NotebookError(str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    lines: list[str] = []
    blocks: list[Block] = []
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        source = _source(cell.get("source", ""))
        kind = cell.get("cell_type", "markdown")
        if lines:
            lines.append("")
        first = len(lines) + 1
        if kind == "code":
            body = ["```python", *source.split("\n"), "```"]
            lines += body
            blocks.append(Block(kind="code", text="\n".join(body), line=first, end_line=len(lines), graded=False, cell=index))
            shown = _outputs(cell.get("outputs", []))
            if shown:
                first = len(lines) + 1
                body = ["```output", *shown, "```"]
                lines += body
                blocks.append(Block(kind="output", text="\n".join(body), line=first, end_line=len(lines), graded=False, cell=index))
        else:
            lines += source.split("\n")
            blocks += markdown_blocks(source, first_line=first, cell=index)
    return "\n".join(lines), blocks


def _source(value: Any) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _outputs(outputs: list[Any]) -> list[str]:
    """The text of a cell's outputs (streams, plain-text results, errors), at most a screenful."""
    shown: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            shown += _source(output.get("text", "")).split("\n")
        elif kind in ("execute_result", "display_data"):
            shown += _source(output.get("data", {}).get("text/plain", "")).split("\n")
        elif kind == "error":
            shown.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    shown = [line for line in shown if line.strip()]
    return shown[:_OUTPUT_LINES] + (["…"] if len(shown) > _OUTPUT_LINES else [])
