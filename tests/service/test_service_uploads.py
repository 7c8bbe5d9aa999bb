"""Uploaded files and archives: every hostile entry is refused with a message naming it, the rest are kept."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from service_helpers import RIGHT_ANSWERS, zip_bytes

from grader.input.open import MAX_BYTES
from grader.service.uploads import MAX_ENTRIES, read_upload, safe_name

GOOD = RIGHT_ANSWERS.encode()


def _codes(data: bytes, name: str = "class.zip") -> tuple[list[str], list[str]]:
    out = read_upload(name, data, len(data))
    return [f.name for f in out.files], [p.code for p in out.problems]


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ("../evil.md", "upload.unsafe_entry"),
        ("a/../../evil.md", "upload.unsafe_entry"),
        ("/etc/evil.md", "upload.unsafe_entry"),
        ("C:\\temp\\evil.md", "upload.unsafe_entry"),
        ("..\\evil.md", "upload.unsafe_entry"),
    ],
)
def test_paths_leaving_the_archive_are_refused_and_the_rest_kept(entry: str, code: str) -> None:
    names, codes = _codes(zip_bytes({"alice.md": GOOD, entry: GOOD}))
    assert names == ["alice.md"]
    assert codes == [code]


def test_symlinks_are_refused() -> None:
    names, codes = _codes(zip_bytes({"alice.md": GOOD}, symlinks={"bob.md": "/etc/passwd"}))
    assert (names, codes) == (["alice.md"], ["upload.unsafe_entry"])
    out = read_upload("c.zip", zip_bytes({}, symlinks={"bob.md": "/etc/passwd"}), 10)
    assert "symbolic link" in out.problems[0].message and out.problems[0].file == "c.zip: bob.md"


def test_a_zip_bomb_is_refused_without_unpacking_it() -> None:
    bomb = zip_bytes({"alice.md": GOOD, "bomb.md": b"0" * 50_000_000})
    assert len(bomb) < 200_000
    names, codes = _codes(bomb)
    assert (names, codes) == (["alice.md"], ["upload.zip_bomb"])


def test_a_large_entry_is_read_only_up_to_the_limit() -> None:
    """Too large to grade, but recorded (so the student's file is listed with the reason), and never read whole."""
    letters = random.Random(1).randbytes(MAX_BYTES // 2 + 5000).hex().encode()  # text that does not compress much
    data = zip_bytes({"big.md": letters})
    out = read_upload("c.zip", data, len(data))
    assert [f.name for f in out.files] == ["big.md"]
    assert len(out.files[0].data) == MAX_BYTES + 1 and out.files[0].size > MAX_BYTES


def test_folders_metadata_and_other_files_are_skipped_quietly() -> None:
    names, codes = _codes(
        zip_bytes({"class/alice.md": GOOD, "__MACOSX/class/._alice.md": b"\0", "class/.DS_Store": b"\0", "class/photo.png": b"\x89PNG", "class/bob.tex": GOOD})
    )
    assert (sorted(names), codes) == (["alice.md", "bob.tex"], [])
    out = read_upload("c.zip", zip_bytes({"class/photo.png": b"\x89PNG"}), 10)
    assert out.skipped == ["class/photo.png"]


def test_two_entries_with_one_name_keep_the_first_and_say_so() -> None:
    names, codes = _codes(zip_bytes({"a/alice.md": GOOD, "b/alice.md": b"other"}))
    assert (names, codes) == (["alice.md"], ["upload.duplicate_name"])


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"PK\x03\x04" + b"\0" * 100])
def test_a_broken_archive_is_one_clear_problem(data: bytes) -> None:
    out = read_upload("class.zip", data, len(data))
    assert out.files == [] and [p.code for p in out.problems] == ["upload.bad_zip"]
    assert "zip" in out.problems[0].fix


def test_too_many_entries() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(MAX_ENTRIES + 1):
            archive.writestr(f"s{n}.md", b"x")
    names, codes = _codes(buffer.getvalue())
    assert (names, codes) == ([], ["upload.too_many_entries"])


def test_an_encrypted_entry_is_refused() -> None:
    data = bytearray(zip_bytes({"alice.md": GOOD}))
    data[6] |= 0x1  # the local header's "encrypted" flag
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1
    names, codes = _codes(bytes(data))
    assert (names, codes) == ([], ["upload.unsafe_entry"])


@pytest.mark.parametrize(("raw", "expected"), [("alice.md", "alice.md"), ("C:\\Users\\x\\bob.md", "bob.md"), ("../../etc/passwd", "passwd"), ("", None), ("..", None), ("a\x00b.md", None), ("<x>.md", None)])
def test_safe_names(raw: str, expected: str | None) -> None:
    assert safe_name(raw) == expected


def test_a_plain_file_is_kept_with_its_base_name() -> None:
    out = read_upload("../../alice.md", GOOD, len(GOOD))
    assert [(f.name, f.data) for f in out.files] == [("alice.md", GOOD)]
