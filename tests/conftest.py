from __future__ import annotations

from pathlib import Path

import pytest

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
