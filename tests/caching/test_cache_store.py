"""The disk and memory cache: exact keys, JSON files that may vanish or rot, never required."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from grader._internal.cache import Memo, cache_dir, lark_parser, stable_digest


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _memo(name: str = "test.squares") -> Memo[list[int]]:
    return Memo(name, encode=lambda value: value, decode=lambda data: [int(x) for x in data])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        ("1", 1),
        ((1, 2), [1, 2]),
        (0.1 + 0.2, 0.3),
        ({"a": 1}, {"a": 2}),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0, 0.0])),
        (np.array([1, 2]), np.array([1.0, 2.0])),
    ],
)
def test_different_inputs_have_different_keys(a: object, b: object) -> None:
    assert stable_digest(a) != stable_digest(b)


def test_equal_inputs_have_equal_keys_whatever_the_dict_order() -> None:
    assert stable_digest({"a": 1, "b": [2.5]}) == stable_digest({"b": [2.5], "a": 1})
    assert stable_digest(np.arange(3.0)) == stable_digest(np.arange(3.0))


def test_a_value_without_a_stable_form_is_not_cached(folder: Path) -> None:
    memo = _memo()
    assert memo.key(object()) is None
    calls: list[int] = []
    for _ in range(2):
        memo.get_or_compute(None, lambda: calls.append(1) or [1])  # type: ignore[func-returns-value]
    assert len(calls) == 2


def test_a_result_is_computed_once_then_read_from_disk_by_another_process(folder: Path) -> None:
    memo = _memo()
    key = memo.key(3)
    assert memo.get_or_compute(key, lambda: [9]) == [9]
    fresh = _memo()  # another process: nothing in memory
    assert fresh.get_or_compute(key, lambda: pytest.fail("computed again")) == [9]
    assert len(list(folder.rglob("*.json"))) == 1 and not list(folder.rglob("*.tmp"))


@pytest.mark.parametrize("content", ["", "{not json", '{"key": "other", "value": [1]}', '{"key": "%s", "value": ["x"]}'])
def test_a_corrupt_file_is_ignored_and_rewritten(folder: Path, content: str) -> None:
    memo = _memo()
    key = memo.key(4)
    assert key is not None
    memo.put(key, [16])
    (path,) = folder.rglob("*.json")
    path.write_text(content.replace("%s", key), encoding="utf-8")
    fresh = _memo()
    assert fresh.get_or_compute(key, lambda: [16]) == [16]
    assert json.loads(path.read_text(encoding="utf-8")) == {"key": key, "value": [16]}


def test_an_unwritable_folder_only_costs_the_disk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(blocker / "cache"))
    memo = _memo()
    assert memo.get_or_compute(memo.key(5), lambda: [25]) == [25]
    assert memo.get_or_compute(memo.key(5), lambda: pytest.fail("not remembered")) == [25]


def test_switched_off_nothing_is_remembered(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_CACHE", "off")
    assert cache_dir() is None
    memo = _memo()
    calls: list[int] = []
    for _ in range(2):
        memo.get_or_compute(memo.key(6), lambda: calls.append(1) or [36])  # type: ignore[func-returns-value]
    assert len(calls) == 2 and not folder.exists()


def test_the_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GRADER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "grader"


def test_parser_tables_read_back_parse_like_freshly_built_ones(folder: Path) -> None:
    grammar = 'start: NUMBER ("+" NUMBER)*\n%import common.NUMBER\n%ignore " "\n'
    built = lark_parser(grammar, propagate_positions=True)
    from grader._internal import cache

    cache._LARK_TABLES.clear_memory()  # as in a new process: only the file is left
    loaded = lark_parser(grammar, propagate_positions=True)
    assert loaded is not built
    for text in ("1 + 2 + 30", "4"):
        assert loaded.parse(text) == built.parse(text)
    assert os.listdir(folder) == ["lark"]
