"""grader: automated grading and answer checking for math-heavy written assignments.

The public API; everything else is internal and may change. Names load on first use, so
``import grader`` (and ``grader --version``) does not pay for SymPy, NumPy or the parsers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grader._internal.version import __version__

_EXPORTS = {
    "Equivalence": "grader.math.equivalence",
    "Gradebook": "grader.gradebook.book",
    "GraderError": "grader.errors",
    "Problem": "grader.errors",
    "QuestionResult": "grader.scoring.models",
    "Report": "grader.scoring.models",
    "Rubric": "grader.rubric.models",
    "RubricError": "grader.errors",
    "SubmissionError": "grader.errors",
    "check_equivalence": "grader.math.equivalence",
    "grade_file": "grader.grading.pipeline",
    "grade_submission": "grader.grading.pipeline",
    "is_equivalent": "grader.math.api",
    "lint_rubric": "grader.checking.lint",
    "load_rubric": "grader.checking.lint",
    "open_gradebook": "grader.gradebook.book",
    "segment_text": "grader.grading.pipeline",
    "verify": "grader.answers.verify",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from grader.answers.verify import verify  # noqa: F401
    from grader.checking.lint import lint_rubric, load_rubric  # noqa: F401
    from grader.errors import GraderError, Problem, RubricError, SubmissionError  # noqa: F401
    from grader.gradebook.book import Gradebook, open_gradebook  # noqa: F401
    from grader.grading.pipeline import grade_file, grade_submission, segment_text  # noqa: F401
    from grader.math.api import is_equivalent  # noqa: F401
    from grader.math.equivalence import Equivalence, check_equivalence  # noqa: F401
    from grader.rubric.models import Rubric  # noqa: F401
    from grader.scoring.models import QuestionResult, Report  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
