from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def a3_rubric():  # type: ignore[no-untyped-def]
    from grader.rubric.load import load_rubric

    return load_rubric(ROOT / "rubrics" / "a3")
