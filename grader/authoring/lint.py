"""``grader rubric lint``: everything a rubric author must fix before students see the rubric.

On top of the schema and each checker's own lint (``grader.checking.lint``): every name a
reference, alternative or mistake uses must be declared (an undeclared name would otherwise be a
random number, so a wrong answer could pass); every alternative must be accepted by the
reference alone and no mistake may be; and the rubric's own tests must pass (without mutants).
The comparisons run through the pipeline's check path, so they have the rubric's time and
memory limits. Problems carry the TOML line where it can be found.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

from grader.authoring.testing import _answer, answer_text, run_rubric_tests
from grader.checking.lint import lint_rubric
from grader.errors import Problem
from grader.grading.pipeline import check_parts, part_context
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import Call, Node, Operator, ParseError, Relation, Seq, Sym
from grader.rubric.load import read_rubric, rubric_path
from grader.rubric.models import AnyPart, Question, Rubric
from grader.rubric.parts import NumericPart, SymbolicPart


def lint_fully(path: Path | str, *, run_tests: bool = True) -> list[Problem]:
    """Every problem of the rubric at ``path``; with ``run_tests``, also equivalences and its tests."""
    file = rubric_path(Path(path))
    problems = lint_rubric(path)
    rubric, _ = read_rubric(path) if not problems else (None, [])
    if rubric is None:
        return _located(problems, file)
    shown = str(file)
    problems += undeclared(rubric, shown)
    if run_tests and not problems:
        problems += equivalences(rubric, shown)
        problems += failed_tests(rubric, shown)
    return _located(problems, file)


# -- undeclared names ------------------------------------------------------------------------------


def names_used(tree: Node, table: SymbolTable) -> list[str]:
    """Symbols a formula uses, in order, without the variables an operator binds (Σ_i, lim_{x→0}, d/dx)
    and without the variable of a declared function's values (``x`` in ``p_1(x)/(p_0(x) + p_1(x))``,
    a function of x, when x is used nowhere else)."""
    found: list[str] = []

    def walk(node: object, bound: frozenset[str]) -> None:
        if isinstance(node, Sym):
            if node.name not in bound and node.name not in found:
                found.append(node.name)
            return
        if isinstance(node, Operator):
            own = _bound_by(node.sub)
            walk(node.body, bound | own)
            for limit in (node.sub, node.sup):
                if limit is not None:
                    walk(_without_binder(limit), bound | own)
            return
        if isinstance(node, Call) and node.func == "diff" and len(node.args) == 2 and isinstance(node.args[1], Sym):
            walk(node.args[0], bound | {node.args[1].name})
            return
        if isinstance(node, Call) and table.is_function(node.func):
            for arg in node.args:
                if not isinstance(arg, Sym):
                    walk(arg, bound)
            return
        if dataclasses.is_dataclass(node):
            for item in dataclasses.fields(node):
                walk(getattr(node, item.name), bound)
        elif isinstance(node, tuple):
            for item in node:
                walk(item, bound)

    walk(tree, frozenset())
    return found


def _bound_by(sub: Node | None) -> frozenset[str]:
    """``i`` in ``i = 1``, ``x`` in ``x \\to 0`` or ``x \\sim p``: the first symbol of the subscript."""
    if isinstance(sub, (Relation, Seq)) and sub.items and isinstance(sub.items[0], Sym):
        return frozenset({sub.items[0].name})
    if isinstance(sub, Sym):
        return frozenset({sub.name})
    return frozenset()


def _without_binder(sub: Node) -> Node:
    if isinstance(sub, (Relation, Seq)) and sub.items and isinstance(sub.items[0], Sym):
        return Seq(items=sub.items[1:])
    return sub


#: Names every rubric may use without declaring them (until the math engine's whitelist replaces this).
STANDARD_NAMES = {"I": "the identity matrix", "i": "the imaginary unit"}


def undeclared(rubric: Rubric, file: str) -> list[Problem]:
    """Every name a reference, alternative or mistake of a math part uses that [symbols] does not declare."""
    table = rubric.symbol_table
    problems: list[Problem] = []
    for question, part in _math_parts(rubric):
        for field, latex in _formulas(part):
            parsed = parse_latex(latex, table)
            if isinstance(parsed, ParseError):
                continue  # the checker's own lint reports it
            for name in names_used(parsed.tree, table):
                if table.get(name) is None and name not in STANDARD_NAMES:
                    problems.append(
                        Problem(
                            code="rubric.undeclared_name",
                            message=f"{name!r} is not declared, so it would be read as an unknown number",
                            file=file,
                            question=question.id,
                            part=part.id,
                            field=field,
                            fix=_declare_fix(name, table),
                        )
                    )
    return problems


def _declare_fix(name: str, table: SymbolTable) -> str:
    key = f'"{name}"' if not re.fullmatch(r"[A-Za-z0-9_]+", name) else name
    return f"declare it: [symbols.{key}] with kind = \"scalar\" (or \"matrix\", \"function\"), or correct the spelling"


def _math_parts(rubric: Rubric) -> Iterator[tuple[Question, SymbolicPart | NumericPart]]:
    for question in rubric.questions:
        for part in question.parts:
            if isinstance(part, (SymbolicPart, NumericPart)):
                yield question, part


def _formulas(part: SymbolicPart | NumericPart) -> Iterator[tuple[str, str]]:
    yield "reference", part.reference
    if isinstance(part, SymbolicPart):
        for index, alternative in enumerate(part.alternatives):
            yield f"alternatives[{index}]", alternative
    for mistake in part.mistakes:
        if mistake.answer is not None:
            yield f"mistakes[{mistake.id}].answer", mistake.answer


# -- alternatives and mistakes against the reference -----------------------------------------------


def equivalences(rubric: Rubric, file: str) -> list[Problem]:
    """Each alternative must be accepted by the reference alone; no mistake may be accepted."""
    checks = []
    meaning = []
    for question, part in _math_parts(rubric):
        ctx = part_context(rubric, question, part, file)
        alone: AnyPart = part.model_copy(update={"mistakes": [], **({"alternatives": []} if isinstance(part, SymbolicPart) else {})})
        with_alternatives: AnyPart = part.model_copy(update={"mistakes": []})
        for field, latex in _formulas(part):
            if field == "reference":
                continue
            is_mistake = field.startswith("mistakes")
            target = with_alternatives if is_mistake else alone
            checks.append((target, _answer(question.id, answer_text(target, latex)), ctx))
            meaning.append((question, part, field, latex, is_mistake))
    problems = []
    for (question, part, field, latex, is_mistake), outcome in zip(meaning, check_parts(checks) if checks else [], strict=True):
        why = "; ".join([*outcome.reasons[:1], *outcome.feedback[:1]])
        if is_mistake and outcome.verdict == "right":
            problems.append(
                Problem(
                    code="rubric.mistake_accepted",
                    message=f"the mistake {latex!r} is equivalent to the reference, so a student writing it gets full marks",
                    file=file, question=question.id, part=part.id, field=field,
                    fix="correct the mistake's answer, or remove the mistake",
                )  # fmt: skip
            )
        elif not is_mistake and outcome.verdict != "right":
            found = "is not equivalent to" if outcome.verdict == "wrong" else "could not be shown equivalent to"
            problems.append(
                Problem(
                    code="rubric.alternative_not_equivalent",
                    message=f"the alternative {latex!r} {found} the reference {part.reference!r}" + (f" ({why})" if why else ""),
                    file=file, question=question.id, part=part.id, field=field,
                    fix="correct the alternative or remove it: every alternative must equal the reference",
                )  # fmt: skip
            )
    return problems


# -- the rubric's own tests ----------------------------------------------------------------------------


def failed_tests(rubric: Rubric, file: str) -> list[Problem]:
    report = run_rubric_tests(rubric, file=file, mutate=False)
    problems = []
    for question in rubric.questions:
        for part in question.parts:
            for index, test in enumerate(part.tests):
                outcome = next(
                    (o for o in report.cases if o.question == question.id and o.part == part.id and o.what.startswith(f"test {index + 1} ")),
                    None,
                )
                if outcome is None or outcome.passed:
                    continue
                problems.append(
                    Problem(
                        code="rubric.test_failed",
                        message=f"test answer {test.answer!r}: {outcome.message}",
                        file=file, question=question.id, part=part.id, field=f"tests[{index}]",
                        fix="correct the rubric (reference, alternatives, mistakes, options) or the test's expectation",
                    )  # fmt: skip
                )
    return problems


# -- where in the TOML ---------------------------------------------------------------------------------


def _located(problems: list[Problem], file: Path) -> list[Problem]:
    if file.suffix.lower() != ".toml" or not problems:
        return problems
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return problems
    return [p if p.line or not (p.question or p.field) else p.model_copy(update={"line": toml_line(lines, p)}) for p in problems]


_HEADER = re.compile(r"^\s*\[\[?\s*([\w.\-\"]+)\s*\]\]?\s*(#.*)?$")
_ID = re.compile(r"""^\s*id\s*=\s*["']([^"']*)["']""")


def toml_line(lines: list[str], problem: Problem) -> int | None:
    """The 1-based line of the problem's field in a rubric TOML, found from the question and part ids."""
    start, end = 0, len(lines)
    if problem.question is not None:
        span = _table_with_id(lines, "questions", problem.question, start, end)
        if span is None:
            return None
        start, end = span
        if problem.part is not None:
            span = _table_with_id(lines, "questions.parts", problem.part, start, end)
            if span is None:
                return start + 1
            start, end = span
    if not problem.field:
        return start + 1
    field = problem.field
    match = re.fullmatch(r"(\w+)\[([^\]]+)\](?:\.(\w+))?", field)
    if match and not match.group(2).isdigit():  # mistakes[id].answer, options[id].statements
        span = _table_with_id(lines, f"questions.parts.{match.group(1)}", match.group(2), start, end)
        if span is not None:
            start, end = span
            field = match.group(3) or "id"
    elif match and match.group(1) == "tests":  # tests[3]
        headers = [i for i in range(start, end) if _header(lines[i]) == "questions.parts.tests"]
        index = int(match.group(2))
        if index < len(headers):
            return headers[index] + 1
    key = re.split(r"[\[.]", field)[0]
    for i in range(start, end):
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
            if match and match.group(2).isdigit() and match.group(1) == key:
                return _array_item(lines, i, end, int(match.group(2)))
            return i + 1
    return start + 1


def _header(line: str) -> str | None:
    match = _HEADER.match(line)
    return match.group(1) if match else None


def _table_with_id(lines: list[str], table: str, wanted: str, start: int, end: int) -> tuple[int, int] | None:
    """Lines of the ``[[table]]`` entry whose ``id`` is ``wanted``, up to the next entry of it or a parent."""
    parents = {".".join(table.split(".")[: k + 1]) for k in range(table.count(".") + 1)}
    current: int | None = None
    for i in range(start, end):
        header = _header(lines[i])
        if header is not None and header in parents:
            if current is not None:
                return current, i
            current = None
            if header == table:
                current = i if _id_after(lines, i, end) == wanted else None
    return (current, end) if current is not None else None


def _id_after(lines: list[str], header: int, end: int) -> str | None:
    for i in range(header + 1, end):
        if _header(lines[i]) is not None:
            return None
        match = _ID.match(lines[i])
        if match:
            return match.group(1)
    return None


def _array_item(lines: list[str], key_line: int, end: int, index: int) -> int:
    """The line of item ``index`` of an array that may span lines (``alternatives = ['a',\\n 'b']``)."""
    count = 0
    for i in range(key_line, end):
        text = lines[i].split("=", 1)[1] if i == key_line else lines[i]
        for _ in re.finditer(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", text):
            if count == index:
                return i + 1
            count += 1
        if "]" in re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", "", text):
            break
    return key_line + 1
