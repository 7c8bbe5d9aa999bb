"""Fixtures of the batch tests: the tiny rubric of the CLI tests, loaded once."""

from __future__ import annotations

import pytest
from batch_helpers import MINI

from grader.checking.lint import load_rubric
from grader.rubric.load import rubric_digest
from grader.rubric.models import Rubric


@pytest.fixture(scope="session")
def mini() -> Rubric:
    return load_rubric(MINI)


@pytest.fixture(scope="session")
def mini_digest() -> str:
    return rubric_digest(MINI)
