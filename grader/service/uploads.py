"""Uploaded files and zip archives, read without trusting them.

Every entry becomes either a file to record (its name and bytes; unreadable content is still
recorded, so the instructor sees that student's file and why it failed) or a problem that names
the entry and says what to do. Nothing is written to disk under a name taken from the upload:
entry names are checked (no absolute paths, no ``..``, no symlinks, no devices) and reduced to
a base name. Archives are read with bounded reads, so a zip bomb or a lying size header costs
at most the limits below.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from grader.errors import Problem
from grader.input.open import MAX_BYTES

SUBMISSION_SUFFIXES = (".md", ".markdown", ".txt", ".tex")
MAX_ENTRIES = 2000
MAX_ARCHIVE_TOTAL = 200_000_000  # bytes unpacked from one archive
MAX_RATIO = 200  # unpacked / packed beyond which a large entry is a bomb
_IGNORED_PARTS = ("__MACOSX",)
_IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One file to record: a safe base name and at most ``MAX_BYTES + 1`` bytes (more means too large)."""

    name: str
    data: bytes
    size: int


@dataclass(slots=True)
class Unpacked:
    files: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # entries that are not submissions (folders, images, metadata)


def _problem(code: str, where: str, message: str, fix: str) -> Problem:
    return Problem(code=code, message=message, file=where, fix=fix)


def safe_name(raw: str) -> str | None:
    """The base name of an uploaded file, or None if it is not a usable name."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or len(name) > 200 or any(ord(c) < 32 or c in '<>:"|?*' for c in name):
        return None
    return name


def is_zip(name: str, head: bytes) -> bool:
    return name.lower().endswith(".zip") or head.startswith((_ZIP_MAGIC, _EMPTY_ZIP))


def read_upload(name: str, data: bytes, total_size: int) -> Unpacked:
    """A plain file or an archive as uploaded (``data`` may be cut at ``MAX_ARCHIVE_TOTAL``)."""
    out = Unpacked()
    shown = safe_name(name) or "(unnamed file)"
    if is_zip(shown, data[:4]):
        _read_zip(shown, data, out)
        return out
    base = safe_name(name)
    if base is None:
        out.problems.append(_problem("upload.bad_name", shown, f"the file name {name[:80]!r} cannot be used", "rename the file (letters, digits, '-', '_', '.') and upload again"))
        return out
    out.files.append(Incoming(base, data[: MAX_BYTES + 1], total_size))
    return out


def _entry_name(info: zipfile.ZipInfo) -> tuple[str | None, str | None]:
    """(base name, None) for a usable entry, or (None, why not)."""
    raw = info.filename
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":"):
        return None, "it has an absolute path"
    parts = PurePosixPath(raw.replace("\\", "/")).parts
    if ".." in parts:
        return None, "its path leaves the archive ('..')"
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix file type
    if kind == stat.S_IFLNK:
        return None, "it is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return None, "it is not a regular file (a device, pipe or socket)"
    if info.flag_bits & 0x1:
        return None, "it is encrypted"
    return safe_name(raw), None


def _read_zip(archive: str, data: bytes, out: Unpacked) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        entries = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        out.problems.append(_problem("upload.bad_zip", archive, f"this is not a readable zip archive ({error})", "make the archive again (zip -r class.zip folder) and upload it"))
        return
    if len(entries) > MAX_ENTRIES:
        out.problems.append(_problem("upload.too_many_entries", archive, f"the archive has {len(entries)} entries, more than {MAX_ENTRIES}", "upload the class in several archives"))
        return
    unpacked = 0
    seen: dict[str, str] = {}
    with zf:
        for info in entries:
            where = f"{archive}: {info.filename[:200]}"
            if info.is_dir():
                continue
            name, refused = _entry_name(info)
            if refused is not None:
                out.problems.append(_problem("upload.unsafe_entry", where, f"this entry was refused: {refused}", "remove it from the archive; submissions are plain files"))
                continue
            if name is None:
                out.problems.append(_problem("upload.bad_name", where, "the entry's name cannot be used", "rename it and upload again"))
                continue
            if name in _IGNORED_NAMES or any(part in _IGNORED_PARTS for part in PurePosixPath(info.filename).parts) or name.startswith("._"):
                continue
            if not name.lower().endswith(SUBMISSION_SUFFIXES):
                out.skipped.append(info.filename[:200])
                continue
            if name in seen:
                out.problems.append(_problem("upload.duplicate_name", where, f"{seen[name]} has the same file name, so this entry was not recorded", "give every submission its own file name"))
                continue
            ratio = info.file_size / max(1, info.compress_size)
            if info.file_size > MAX_BYTES and ratio > MAX_RATIO:
                out.problems.append(_problem("upload.zip_bomb", where, f"this entry unpacks to {info.file_size:,} bytes from {info.compress_size:,} (a zip bomb)", "upload the real submission files"))
                continue
            try:
                with zf.open(info) as handle:
                    content = handle.read(MAX_BYTES + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
                out.problems.append(_problem("upload.bad_entry", where, f"this entry cannot be unpacked ({error})", "make the archive again and upload it"))
                continue
            unpacked += len(content)
            if unpacked > MAX_ARCHIVE_TOTAL:
                out.problems.append(_problem("upload.archive_too_large", archive, f"the archive unpacks to more than {MAX_ARCHIVE_TOTAL:,} bytes; the entries after {info.filename[:80]} were not read", "upload the class in several archives"))
                return
            seen[name] = info.filename[:200]
            size = max(info.file_size, len(content))
            out.files.append(Incoming(name, content, size))
