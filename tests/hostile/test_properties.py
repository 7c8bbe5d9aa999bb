"""Property tests: whatever a student writes, the parsers, the segmenter and the extractor answer
with a result or an error message, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.answers.align import segment
from grader.answers.extract import extract
from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import decode_submission
from grader.math.latex import parse_latex
from grader.math.text import parse_text
from grader.math.tree import Parsed, ParseError
from grader.rubric.models import Rubric

# Pieces of LaTeX that parsers treat specially, bombs and injection attempts included.
LATEX_PIECES = [
    *"xyp12+-*/^_=!,.|&()[]{}<> ",
    r"\frac", r"\dfrac{", r"\sqrt", r"\sqrt[3]", r"\left(", r"\right)", r"\left|", r"\right|", r"\|",
    r"\sum_{k=1}^{n}", r"\prod_", r"\int_0^1", r"\lim_{n\to\infty}", r"\binom", r"\det", r"\log", r"\exp",
    r"\begin{pmatrix}", r"\end{pmatrix}", r"\begin{bmatrix}", r"\end{bmatrix}", r"\\", r"\cdot", r"\times",
    r"\odot", r"\top", r"^{T}", r"\lambda", r"\Gamma", r"\theta", r"\psi_0^*", r"\sigma", r"\mathbf{X}",
    r"\boldsymbol{w}", r"\text{", r"\mathrm{", r"\operatorname{", r"\pm", r"\infty", r"\le", r"\geq",
    r"10^{10^{10}}", "!!", r"\input{", r"\write18{", r"\href{", "__import__", "{{", "}}", "{%", "%}", "$",
    "\\", "\ufffd", "λ", "∑",
]
latex = st.lists(st.sampled_from(LATEX_PIECES), max_size=40).map("".join)
calculator = st.lists(st.sampled_from([*"xyp12+-*/^()[],.! ", "sqrt(", "exp(", "log(", "**", "pi", "__import__", "e"]), max_size=40).map("".join)
SLOW_OK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW_OK
@given(latex | st.text(max_size=60))
def test_parse_latex_never_raises(source: str) -> None:
    result = parse_latex(source)
    assert isinstance(result, Parsed | ParseError)


@SLOW_OK
@given(latex)
def test_parse_latex_with_the_flagship_symbols_never_raises(a3_symbols: object, source: str) -> None:
    assert isinstance(parse_latex(source, a3_symbols), Parsed | ParseError)  # type: ignore[arg-type]


@SLOW_OK
@given(calculator | st.text(max_size=60))
def test_parse_text_never_raises(source: str) -> None:
    assert isinstance(parse_text(source), Parsed | ParseError)


def _document(pieces: list[str]) -> str:
    return "".join(pieces)


MARKDOWN_PIECES = [
    "\n", "\n\n", "## ", "1.2", "1.2 ", "5.3", "2.3a", "(b)", "Answer:", "**Answer:**", "Question 1", "$", "$$",
    r"\[", r"\]", r"\lambda^{\text{dropout}} = ", r"\frac{1-p}{p}", r"J^* = ", r"\begin{pmatrix} 0 & 1 \end{pmatrix}",
    r"\boxed{", "}", "forward", "reverse", "increases", " ", "x", "<script>", "{{ 7*7 }}", "```", "> ", "- ",
]


@SLOW_OK
@given(st.lists(st.sampled_from(MARKDOWN_PIECES) | st.text(max_size=8), max_size=60).map(_document))
def test_segment_and_extract_never_raise(a3_rubric: Rubric, text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as the reader hands it over
    ids = [q.id for q in a3_rubric.questions]
    submission = segment(text, ids, path="random.md")
    lines = text.count("\n") + 1
    for question in a3_rubric.questions:
        answer = submission.answers[question.id]
        assert answer.status in ("missing", "unlocated") or 1 <= answer.start_line <= answer.end_line <= lines
        for part in question.parts:
            target = getattr(part, "target", None)
            extraction = extract(answer, target, part_id=part.id, mode="math" if target else "prose")
            assert extraction.question_id == question.id


@SLOW_OK
@given(st.binary(max_size=200))
def test_decoding_any_bytes_gives_text_or_a_problem(data: bytes) -> None:
    result = decode_submission(data, "any.md")
    assert isinstance(result, SubmissionText | SubmissionProblem)
    if isinstance(result, SubmissionText):
        assert "\r" not in result.text
