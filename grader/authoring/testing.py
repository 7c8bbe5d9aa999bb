"""A rubric's own tests: its stated test answers must get their verdicts, and mutants of every
reference must be rejected. ``grader rubric test`` and pytest (``assert_rubric_passes``) run it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.answers.models import Answer
from grader.answers.questions import reading_hints
from grader.authoring.mutants import mutants
from grader.checking.lint import load_rubric
from grader.document.formulas import find_formulas
from grader.grading.pipeline import check_part, part_context
from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.tree import Node, ParseError
from grader.rubric.models import AnyPart, Question, Rubric
from grader.rubric.parts import NumericPart, PartTest, SymbolicPart

MATH_KINDS = ("symbolic", "numeric")


@dataclass(frozen=True)
class Outcome:
    question: str
    part: str
    what: str
    passed: bool
    message: str = ""

    def line(self) -> str:
        return f"question {self.question}, part {self.part}: {self.what}: {self.message}"


@dataclass
class RubricTestReport:
    cases: list[Outcome] = field(default_factory=list)
    mutants: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in (*self.cases, *self.mutants) if not o.passed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        passed = sum(o.passed for o in self.cases)
        killed = sum(o.passed for o in self.mutants)
        return (
            f"rubric tests: {passed} passed, {len(self.cases) - passed} failed; "
            f"mutants: {killed} killed, {len(self.mutants) - killed} survived"
        )


def answer_text(part: AnyPart, written: str) -> str:
    """What a student would write: ``$$target = answer$$`` for math parts, the prose otherwise."""
    if part.kind in MATH_KINDS:
        return f"$$ {part.target} = {written} $$" if part.target else f"$$ {written} $$"
    return written


def _answer(question_id: str, text: str) -> Answer:
    return Answer(
        question_id=question_id,
        heading_line=1,
        start_line=2,
        end_line=2 + text.count("\n"),
        text=text,
        formulas=find_formulas(text, 2),
        status="answered",
    )


def run_case(rubric: Rubric, question: Question, part: AnyPart, test: PartTest, index: int, file: str) -> Outcome:
    # read as the pipeline reads it: with the shapes the rubric gives the question's targets
    answer = _answer(question.id, answer_text(part, test.answer)).model_copy(update={"hints": reading_hints(rubric, question)})
    result = check_part(part, answer, part_context(rubric, question, part, file))
    what = f"test {index + 1} ({_short(test.answer)})"
    expected = test.expect + (f" with mistake {test.mistake}" if test.mistake else "")
    got = result.verdict + (f" with mistake {result.mistake}" if result.mistake else "")
    passed = result.verdict == test.expect and (test.mistake is None or result.mistake == test.mistake)
    why = "; ".join([*result.feedback[:1], *result.reasons[:1]])
    return Outcome(question.id, part.id, what, passed, "" if passed else f"expected {expected}, got {got}" + (f" ({why})" if why else ""))


def _trees(texts: list[str], rubric: Rubric) -> list[Node]:
    trees = []
    for text in texts:
        parsed = parse_latex(text, rubric.symbol_table)
        if not isinstance(parsed, ParseError):
            trees.append(parsed.tree)
    return trees


def run_mutants(rubric: Rubric, question: Question, part: AnyPart, file: str) -> list[Outcome]:
    """Every mutant of every reference must be rejected by all accepted forms; mistakes must differ."""
    if not isinstance(part, (SymbolicPart, NumericPart)):
        return []
    ctx = part_context(rubric, question, part, file)
    accepted_texts = [part.reference, *(part.alternatives if isinstance(part, SymbolicPart) else [])]
    accepted = _trees(accepted_texts, rubric)

    def matches(tree: Node) -> bool:
        return any(
            check_equivalence(tree, ref, ctx.symbols, seed=ctx.seed, rtol=part.rtol, atol=part.atol, timeout_s=ctx.timeout_s).verdict
            == "equivalent"
            for ref in accepted
        )

    outcomes = []
    for mistake in part.mistakes:
        if mistake.answer is None:
            continue
        for tree in _trees([mistake.answer], rubric):
            same = matches(tree)
            outcomes.append(
                Outcome(question.id, part.id, f"mistake {mistake.id}", not same, "is accepted as a correct answer" if same else "")
            )
    for reference in accepted[:1]:
        for mutant in mutants(reference, rubric.symbol_table):
            survived = matches(mutant.tree)
            outcomes.append(
                Outcome(
                    question.id,
                    part.id,
                    f"mutant '{mutant.operator}' {mutant.text}",
                    not survived,
                    "was accepted: the rubric cannot tell it from the reference" if survived else "",
                )
            )
    return outcomes


#: Told after each question: questions done, questions in all, the question just done.
ProgressCallback = Callable[[int, int, str], None]


def run_rubric_tests(
    rubric: Rubric, *, file: str = "rubric.toml", mutate: bool = True, progress: ProgressCallback | None = None
) -> RubricTestReport:
    report = RubricTestReport()
    for done, question in enumerate(rubric.questions, start=1):
        for part in question.parts:
            for index, test in enumerate(part.tests):
                report.cases.append(run_case(rubric, question, part, test, index, file))
            if mutate:
                report.mutants.extend(run_mutants(rubric, question, part, file))
        if progress is not None:
            progress(done, len(rubric.questions), question.id)
    return report


def assert_rubric_passes(path: Path | str, *, mutate: bool = True) -> RubricTestReport:
    """For a course's pytest suite: ``def test_rubric(): assert_rubric_passes("rubrics/a3")``."""
    rubric = load_rubric(path)
    report = run_rubric_tests(rubric, file=str(path), mutate=mutate)
    if not report.ok:
        raise AssertionError("\n".join([*(o.line() for o in report.failures), report.summary()]))
    return report


def _short(text: str, limit: int = 50) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
