"""Read a submission file into text, or say in one line what the student must fix.

Files converted from PDF often carry a stray invalid byte, so invalid UTF-8 is replaced and
reported as a warning; only a file that is mostly not UTF-8 (over 1% invalid bytes) is
refused. Size is checked with ``stat`` before reading, so a huge upload costs nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.submission.models import Submission, SubmissionProblem, SubmissionProblemCode, SubmissionText
from grader.submission.segment import segment

MAX_BYTES = 2_000_000
_INVALID_SHARE = 0.01
_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}))
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (a Word or OpenDocument file is one)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Word document"),
)
_RESUBMIT = "save your answers as Markdown text (a .md file) and submit again"


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _problem(code: SubmissionProblemCode, path: str, message: str, fix: str) -> SubmissionProblem:
    return SubmissionProblem(code=code, path=path, message=message, fix=fix)


def read_submission_text(path: Path, *, max_bytes: int = MAX_BYTES) -> SubmissionText | SubmissionProblem:
    """The file's text (LF line ends) with warnings, or the problem that stops it being read."""
    shown = str(path)
    try:
        stat = path.stat()
    except OSError:
        return _problem(
            "submission.not_found", shown, "there is no file here", "check the file name and submit again"
        )
    if not path.is_file():
        return _problem(
            "submission.not_found", shown, "this is a folder, not a file", "submit the Markdown file itself"
        )
    if stat.st_size > max_bytes:
        return _problem(
            "submission.too_large",
            shown,
            f"the file is {_size(stat.st_size)}, more than the {_size(max_bytes)} limit",
            "submit only your answers as Markdown text, without embedded images or data",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return _problem(
            "submission.not_found",
            shown,
            f"the file cannot be opened ({exc.strerror or exc})",
            "submit it again",
        )
    if len(data) > max_bytes:  # grew after stat
        return _problem(
            "submission.too_large",
            shown,
            f"the file is more than the {_size(max_bytes)} limit",
            "submit only your answers as Markdown text, without embedded images or data",
        )
    return decode_submission(data, shown)


def decode_submission(data: bytes, path: str) -> SubmissionText | SubmissionProblem:
    """Bytes to text: refuse empty and binary files, tolerate a few invalid UTF-8 bytes."""
    if not data.strip():
        return _problem(
            "submission.empty", path, "the file is empty", "write your answers in Markdown and submit again"
        )
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return _problem("submission.binary", path, f"the file is {kind}, not text", _RESUBMIT)
    control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\x00" in data or control > _CONTROL_SHARE * len(data):
        return _problem(
            "submission.binary", path, "the file is not text (it contains binary data)", _RESUBMIT
        )
    warnings: list[str] = []
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = body.decode("utf-8", errors="replace")
        invalid = text.count("\ufffd") - body.count("\ufffd".encode())
        line = body.count(b"\n", 0, exc.start) + 1
        if invalid > _INVALID_SHARE * len(body):
            return _problem(
                "submission.encoding",
                path,
                f"the file is not UTF-8 text ({invalid} of {len(body)} bytes are invalid, the first on line {line})",
                "save the file with UTF-8 encoding and submit again",
            )
        warnings.append(
            f"line {line}: byte 0x{body[exc.start]:02X} at offset {exc.start} is not valid UTF-8 and was replaced by "
            f"'\ufffd' ({invalid} such byte{'s' if invalid != 1 else ''} in the file); check the text there"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return _problem(
            "submission.empty", path, "the file is empty", "write your answers in Markdown and submit again"
        )
    return SubmissionText(
        path=path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        warnings=tuple(warnings),
    )


def load_submission(
    path: Path,
    expected_ids: Sequence[str],
    *,
    aliases: Mapping[str, Sequence[str]] | None = None,
    max_bytes: int = MAX_BYTES,
) -> Submission | SubmissionProblem:
    """Read and segment in one step; the file's hash and read warnings are kept on the Submission."""
    read = read_submission_text(path, max_bytes=max_bytes)
    if isinstance(read, SubmissionProblem):
        return read
    submission = segment(read.text, expected_ids, path=read.path, aliases=aliases)
    return submission.model_copy(
        update={"sha256": read.sha256, "warnings": read.warnings + submission.warnings}
    )
