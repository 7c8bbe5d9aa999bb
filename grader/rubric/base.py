"""The base of every rubric model: frozen, and unknown fields are errors (a typo is never ignored)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


def compiled_patterns(patterns: list[str]) -> list[str]:
    """Validator body: every pattern must be a valid regular expression."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


class RubricModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
