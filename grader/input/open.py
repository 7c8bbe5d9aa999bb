"""Open a submission file safely, or say in one line what the student must fix.

Safe means: a symbolic link is refused, never followed (a link in a class folder could point at
the answer key), the size is checked with ``lstat`` before reading, the file is opened with
``O_NOFOLLOW`` so it cannot be swapped for a link in between, and binary files other than
Word documents are refused. Files converted from PDF often carry a stray invalid byte, so
invalid UTF-8 is replaced and reported as a warning; only a file that is mostly not UTF-8
(over 1% invalid bytes) is refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from grader.input.formats import ZIP_SIGNATURE, is_docx, text_format
from grader.input.models import InputProblemCode, SubmissionProblem, SubmissionText

MAX_BYTES = 2_000_000
_INVALID_SHARE = 0.01
_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}))
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (ZIP_SIGNATURE, "a ZIP archive (not a Word .docx document)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Word document (.doc)"),
)
_RESUBMIT = "save your answers as Markdown text (a .md file) and submit again"


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _problem(code: InputProblemCode, path: str, message: str, fix: str) -> SubmissionProblem:
    return SubmissionProblem(code=code, path=path, message=message, fix=fix)


def _too_large(path: str, size: str, max_bytes: int) -> SubmissionProblem:
    return _problem(
        "submission.too_large",
        path,
        f"the file is {size}, more than the {_size(max_bytes)} limit",
        "submit only your answers as Markdown text, without embedded images or data",
    )


def _symlink(path: str) -> SubmissionProblem:
    return _problem(
        "input.symlink",
        path,
        "this is a symbolic link, not a file; links are never followed",
        "submit the file itself, not a link to it",
    )


def read_submission_text(
    path: Path, *, root: Path | None = None, max_bytes: int = MAX_BYTES
) -> SubmissionText | SubmissionProblem:
    """The file's content and format, or the problem that stops it being read.

    ``root`` is the folder the file was found in: a path that leaves it (through a linked
    folder) is refused like a link.
    """
    shown = str(path)
    try:
        info = path.lstat()
    except OSError:
        return _problem("submission.not_found", shown, "there is no file here", "check the file name and submit again")
    if stat.S_ISLNK(info.st_mode):
        return _symlink(shown)
    if root is not None and not _inside(path, root):
        return _symlink(shown)
    if stat.S_ISDIR(info.st_mode):
        return _problem("submission.not_found", shown, "this is a folder, not a file", "submit the Markdown file itself")
    if not stat.S_ISREG(info.st_mode):
        return _problem("submission.not_found", shown, "this is not a regular file", "submit the file itself")
    if info.st_size > max_bytes:
        return _too_large(shown, _size(info.st_size), max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link after lstat
            return _symlink(shown)
        return _problem("submission.not_found", shown, f"the file cannot be opened ({exc.strerror or exc})", "submit it again")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _problem("submission.not_found", shown, "this is not a regular file", "submit the file itself")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return _problem("submission.not_found", shown, f"the file cannot be read ({exc.strerror or exc})", "submit it again")
    finally:
        if fd != -1:
            os.close(fd)
    if len(data) > max_bytes:  # grew after lstat
        return _too_large(shown, "larger", max_bytes).model_copy(
            update={"message": f"the file is more than the {_size(max_bytes)} limit"}
        )
    return decode_submission(data, shown)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=False).relative_to(root.resolve(strict=False))
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def decode_submission(data: bytes, path: str) -> SubmissionText | SubmissionProblem:
    """Bytes to a readable submission: Word kept as bytes, text decoded; empty and binary files refused."""
    if not data.strip():
        return _problem("submission.empty", path, "the file is empty", "write your answers in Markdown and submit again")
    digest = hashlib.sha256(data).hexdigest()
    if is_docx(data):
        return SubmissionText(path=path, text="", sha256=digest, size_bytes=len(data), format="docx", data=data)
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return _problem("submission.binary", path, f"the file is {kind}, not text", _RESUBMIT)
    control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\x00" in data or control > _CONTROL_SHARE * len(data):
        return _problem("submission.binary", path, "the file is not text (it contains binary data)", _RESUBMIT)
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
        return _problem("submission.empty", path, "the file is empty", "write your answers in Markdown and submit again")
    return SubmissionText(
        path=path,
        text=text,
        sha256=digest,
        size_bytes=len(data),
        format=text_format(os.path.basename(path), text),
        warnings=tuple(warnings),
    )
