"""A Word document into blocks: pandoc turns it into Markdown (equations into LaTeX), which is
then read like any Markdown file. Line numbers refer to that text, one paragraph per line.

pandoc runs as a child process with ``--sandbox`` (no file or network access from inside the
document) and a time limit; ``pypandoc-binary`` ships the binary.
"""

from __future__ import annotations

import subprocess

from grader.document.markdown import markdown_blocks
from grader.document.models import Block

_MARKDOWN = (
    "markdown-raw_html-raw_attribute-bracketed_spans-native_spans-native_divs-link_attributes"
    "-header_attributes-fenced_divs-smart-fenced_code_attributes-inline_code_attributes"
)


class DocxError(ValueError):
    """pandoc could not read the file."""


def pandoc_path() -> str:
    try:
        import pypandoc  # imported here: it looks for the binary at import time

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError) as error:
        raise DocxError(f"pandoc is not available ({error})") from None


def docx_markdown(data: bytes, *, timeout_s: float = 30.0) -> str:
    """The document as Markdown with ``$``-math; raises DocxError with pandoc's reason."""
    try:
        done = subprocess.run(
            [pandoc_path(), "--sandbox", "-f", "docx", "-t", _MARKDOWN, "--wrap=none"],
            input=data,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DocxError(f"reading it took longer than {timeout_s:g} s") from None
    except OSError as error:
        raise DocxError(f"pandoc could not be run ({error.strerror or error})") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DocxError(reason[-1] if reason else f"pandoc failed with exit code {done.returncode}")
    text = done.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    return text.replace("&nbsp;", " ")


def docx_blocks(data: bytes, *, timeout_s: float = 30.0) -> tuple[str, list[Block]]:
    text = docx_markdown(data, timeout_s=timeout_s)
    return text, markdown_blocks(text)
