from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader._internal.sandbox import stop_helpers

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/report/golden/*) from the current output instead of comparing",
    )


@pytest.fixture(scope="session")
def a3_rubric():  # type: ignore[no-untyped-def]
    from grader.checking.lint import load_rubric

    return load_rubric(ROOT / "rubrics" / "a3")


class _HelperRestartingMonkeyPatch(pytest.MonkeyPatch):
    """A patch must reach bounded code too: the sandbox's warm helpers hold the code of the moment
    they were forked, so every patch (and its undo) makes the next bounded call fork afresh."""

    def setattr(self, *args: Any, **kwargs: Any) -> None:
        super().setattr(*args, **kwargs)
        stop_helpers()

    def delattr(self, *args: Any, **kwargs: Any) -> None:
        super().delattr(*args, **kwargs)
        stop_helpers()

    def setitem(self, *args: Any, **kwargs: Any) -> None:
        super().setitem(*args, **kwargs)
        stop_helpers()

    def delitem(self, *args: Any, **kwargs: Any) -> None:
        super().delitem(*args, **kwargs)
        stop_helpers()

    def setenv(self, *args: Any, **kwargs: Any) -> None:
        super().setenv(*args, **kwargs)
        stop_helpers()

    def delenv(self, *args: Any, **kwargs: Any) -> None:
        super().delenv(*args, **kwargs)
        stop_helpers()

    def chdir(self, *args: Any, **kwargs: Any) -> None:
        super().chdir(*args, **kwargs)
        stop_helpers()

    def undo(self) -> None:
        super().undo()
        stop_helpers()


@pytest.fixture
def monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    """pytest's ``monkeypatch``, with the sandbox's helpers restarted after each patch."""
    patch = _HelperRestartingMonkeyPatch()
    yield patch
    patch.undo()
