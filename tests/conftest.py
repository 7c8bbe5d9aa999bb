from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from grader._internal.cache import cache_dir, forget_memory
from grader._internal.sandbox import stop_helpers

ROOT = Path(__file__).resolve().parents[1]

# The same examples on every run, so a red CI is a regression and never the luck of the draw.
# To search further: HYPOTHESIS_PROFILE=explore pytest tests/... (a failure it finds becomes a
# case in the test's table or an @example).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/report/golden/*) from the current output instead of comparing",
    )


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests (and the CLIs they start) cache into a folder of their own, never the user's."""
    previous = os.environ.get("GRADER_CACHE_DIR")
    os.environ["GRADER_CACHE_DIR"] = str(tmp_path_factory.mktemp("grader-cache"))
    yield
    if previous is None:
        os.environ.pop("GRADER_CACHE_DIR", None)
    else:
        os.environ["GRADER_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def a3_rubric():  # type: ignore[no-untyped-def]
    from grader.checking.lint import load_rubric

    return load_rubric(ROOT / "rubrics" / "a3")


def _fresh() -> None:
    forget_memory()
    folder = cache_dir()
    if folder is not None:  # verdicts and renderings on disk were made by the unpatched code too
        for namespace in ("verdicts", "mathml"):
            shutil.rmtree(folder / namespace, ignore_errors=True)
    stop_helpers()


class _HelperRestartingMonkeyPatch(pytest.MonkeyPatch):
    """A patch must reach bounded code too: the sandbox's warm helpers hold the code of the moment
    they were forked, and remembered results were made by the unpatched code, so every patch (and
    its undo) empties the in-memory caches and makes the next bounded call fork afresh."""


def _then_fresh(name: str) -> Any:
    patch = getattr(pytest.MonkeyPatch, name)

    def method(self: pytest.MonkeyPatch, *args: Any, **kwargs: Any) -> Any:
        result = patch(self, *args, **kwargs)
        _fresh()
        return result

    return method


for _name in ("setattr", "delattr", "setitem", "delitem", "setenv", "delenv", "chdir", "undo"):
    setattr(_HelperRestartingMonkeyPatch, _name, _then_fresh(_name))


@pytest.fixture
def monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    """pytest's ``monkeypatch``, with the sandbox's helpers restarted after each patch."""
    patch = _HelperRestartingMonkeyPatch()
    yield patch
    patch.undo()
