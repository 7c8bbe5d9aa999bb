"""Shared rubrics for the self-check tests: the flagship a3, a small one with every kind of
reference, and their sealed copies (sealed with a fixed secret, so files are reproducible)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selfcheck_data import KINDS_DATA, SECRET, TEST_KDF

from grader.authoring.seal import seal_rubric, sealed_json
from grader.rubric.models import Rubric


@pytest.fixture(scope="session")
def kinds_rubric() -> Rubric:
    return Rubric.model_validate(KINDS_DATA)


@pytest.fixture(scope="session")
def sealed_kinds(kinds_rubric: Rubric) -> Rubric:
    return seal_rubric(kinds_rubric, secret=SECRET, kdf=TEST_KDF)[0]


@pytest.fixture(scope="session")
def sealed_a3(a3_rubric: Rubric) -> Rubric:
    return seal_rubric(a3_rubric, secret=SECRET, kdf=TEST_KDF)[0]


@pytest.fixture(scope="session")
def sealed_a3_file(sealed_a3: Rubric, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sealed") / "a3.sealed.json"
    path.write_text(sealed_json(sealed_a3), encoding="utf-8")
    return path
