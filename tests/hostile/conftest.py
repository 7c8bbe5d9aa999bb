"""Fixtures of the hostile tests."""

from __future__ import annotations

import pytest

from grader.rubric.models import Rubric


@pytest.fixture(scope="session")
def a3_symbols(a3_rubric: Rubric) -> object:
    """The flagship's symbol table: declared matrices and functions change how LaTeX is read."""
    return a3_rubric.symbol_table
