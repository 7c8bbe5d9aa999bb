"""grader: automated grading and answer checking for math-heavy written assignments.

The public API; everything else is internal and may change.
"""

__version__ = "0.1.0"

from grader.errors import GraderError, Problem, RubricError, SubmissionError
from grader.math import Equivalence, check_equivalence, is_equivalent
from grader.pipeline import grade_file, grade_submission, segment_text
from grader.rubric.load import lint_rubric, load_rubric
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report

__all__ = [
    "Equivalence",
    "GraderError",
    "Problem",
    "QuestionResult",
    "Report",
    "Rubric",
    "RubricError",
    "SubmissionError",
    "__version__",
    "check_equivalence",
    "grade_file",
    "grade_submission",
    "is_equivalent",
    "lint_rubric",
    "load_rubric",
    "segment_text",
]
