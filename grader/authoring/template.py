"""``grader template RUBRIC``: the answer file a student fills in, laid out the way grader reads best.

Each sub-question gets a ``## <id> <title>`` heading, its prompt as a quote, a line showing how
to write each part (``$$ \\lambda^{\\text{dropout}} = \\dots $$`` for a formula), and an empty
``**Answer:**``. Everything before ``**Answer:**`` is the question's text to grader, so an
unfilled template reads as all answers missing, and a filled one needs no other markers.
Works from an open or a sealed rubric: it uses only ids, titles, prompts and targets.
"""

from __future__ import annotations

from grader.checking.registry import MATH_KINDS
from grader.rubric.models import AnyPart, Question, Rubric

CHOICE_KINDS = frozenset({"choice", "sealed-choice"})
TEXT_KINDS = frozenset({"manual", "derivation"})

GUIDE = """\
How to write answers grader can read:

- Write each answer below its question's **Answer:** line; keep the headings as they are.
- State each result as an equation with the asked-for quantity on the left, in display math:
  `$$ y = \\frac{a + b}{2} $$`. Derivations are welcome above it; the last such equation counts.
- Matrices: `\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}`; transpose `X^\\top`,
  inverse `(A)^{-1}`, identity `I`, products in the right order (matrices do not commute).
- Several values (roots, eigenvalues): separate them with commas; `\\pm` stands for both signs,
  as in `$$ x = 1, \\pm\\frac{i}{2} $$`.
- Choices and comparisons: say it in a plain sentence ("... decreases as ... increases").
- Proofs and explanations: write the steps; a person grades them.

Check your file with `grader check answers.md --rubric RUBRIC`, or one answer with
`grader check --rubric RUBRIC --question ID --answer 'LATEX'`."""


def render_template(rubric: Rubric) -> str:
    """The Markdown skeleton for ``rubric``: a guide, then one section per sub-question."""
    lines = [f"# {rubric.assignment.title}", ""]
    lines += [f"> {line}" if line else ">" for line in GUIDE.splitlines()]
    for question in rubric.questions:
        lines += ["", *_question(question)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _question(question: Question) -> list[str]:
    heading = f"## {question.id} {question.title}".rstrip()
    out = [heading, ""]
    if question.prompt:
        out += [f"> {_inert(line)}" if line.strip() else ">" for line in question.prompt.splitlines()]
        out.append("")
    slots = [_slot(part, several=len(question.parts) > 1) for part in question.parts]
    out += [slot for slot in slots if slot]
    if any(slots):
        out.append("")
    out += ["**Answer:**", "", ""]
    return out


def _inert(line: str) -> str:
    """A prompt line that starts like a question label (``1.2 ...``, ``(a) ...``, ``b) ...``) gets
    a leading ellipsis, so it is not read as the start of an answer."""
    stripped = line.strip()
    if stripped[:1].isdigit() or stripped[:1] == "(" or (len(stripped) > 1 and stripped[0].isalpha() and stripped[1] == ")"):
        return "…" + stripped
    return stripped


def answer_kind(part: AnyPart) -> str:
    """How a part is answered: ``formula`` (math, usually with a target), ``sentence`` (a choice
    among options read from prose) or ``text`` (proofs and essays, for a person)."""
    if part.kind in MATH_KINDS:
        return "formula"
    if part.kind in CHOICE_KINDS or getattr(part, "options", None):
        return "sentence"
    if part.kind in TEXT_KINDS or part.target is None:
        return "text"
    if part.kind == "sealed-manual" and not getattr(part, "note", ""):
        return "text"  # a sealed proof; with a note it is a formula the instructor checks
    return "formula"


def _slot(part: AnyPart, *, several: bool) -> str:
    """How to write one part: a formula with its target on the left, a sentence, or a derivation."""
    label = f"({part.title or part.id}) " if several else ""
    kind = answer_kind(part)
    if kind == "formula":
        if part.target:
            return f"- {label}write: `$$ {part.target} = \\dots $$`"
        return f"- {label}write the result in display math: `$$ \\dots $$`"
    if kind == "sentence":
        return f"- {label}say your choice in a sentence"
    return f"- {label}write your derivation or explanation (graded by a person)"
