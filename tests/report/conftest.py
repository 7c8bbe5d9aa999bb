"""Golden files for the report tests; ``pytest --update-goldens`` (or ``GRADER_UPDATE_GOLDENS=1``)
rewrites them. The option is registered in ``tests/conftest.py`` so it works from the root.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: compare ``text`` with ``golden/name``, or rewrite it when updating."""
    update = (
        bool(request.config.getoption("--update-goldens", default=False))
        or os.environ.get("GRADER_UPDATE_GOLDENS") == "1"
    )

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            return
        if not path.exists():
            pytest.fail(f"golden file {path} is missing; run: pytest tests/report --update-goldens")
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        expected.splitlines(True), text.splitlines(True), f"golden/{name}", "output"
                    )
                )[:80]
            )
            pytest.fail(
                f"{name} differs from its golden file (run pytest tests/report --update-goldens if intended):\n{diff}"
            )

    return check
