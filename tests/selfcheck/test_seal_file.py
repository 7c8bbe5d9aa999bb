"""The sealed rubric file: it loads back, and nothing in it gives an answer away."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from selfcheck_data import A3, SECRET, TEST_KDF

from grader.authoring.seal import WITHHELD, is_sealed, seal_rubric, sealed_json
from grader.checking.lint import lint_rubric, load_rubric
from grader.cli import main
from grader.math.evaluate import describe
from grader.math.latex import parse_latex
from grader.math.tree import ParseError
from grader.rubric.models import Rubric
from grader.rubric.parts import ManualPart, NumericPart, SymbolicPart


def _strings(data: Any) -> Iterator[str]:
    """Every key and string value, except ids (a part called 'jacobian' names no answer)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            if key != "id":
                yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _secrets(rubric: Rubric) -> list[tuple[str, str]]:
    """Every text that states or explains an answer: (where, text)."""
    found: list[tuple[str, str]] = []
    for name, system in getattr(rubric, "systems", {}).items():  # a simulated system's field is an answer too
        found.append((f"system {name}", system.field))
    for question in rubric.questions:
        for part in question.parts:
            where = f"{question.id}/{part.id}"
            formulas: list[str] = []
            if isinstance(part, SymbolicPart):
                formulas += [part.reference, *part.alternatives]
            if isinstance(part, NumericPart):
                formulas.append(part.reference)
            formulas += [m.answer for m in part.mistakes if m.answer]
            formulas += [t.answer for t in part.tests if t.expect == "right" and isinstance(part, SymbolicPart | NumericPart)]
            for formula in formulas:
                found.append((f"{where} latex", formula))
                parsed = parse_latex(formula, rubric.symbol_table)
                if not isinstance(parsed, ParseError):
                    found.append((f"{where} expression", describe(parsed.tree, 400)))
            found += [(f"{where} definition", text) for text in getattr(part, "definitions", {}).values()]
            found += [(f"{where} mistake id", m.id) for m in part.mistakes]
            found += [(f"{where} mistake feedback", m.feedback) for m in part.mistakes]
            found += [(f"{where} feedback_correct", part.feedback_correct)] if part.feedback_correct else []
            found += [(f"{where} feedback_incorrect", part.feedback_incorrect)] if part.feedback_incorrect else []
            found += [(f"{where} test", t.answer) for t in part.tests if t.expect == "right"]
            if isinstance(part, ManualPart):
                found += [(f"{where} guidance", part.guidance)] if part.guidance else []
                found += [(f"{where} expected", e.description) for e in part.expected]
                found += [(f"{where} expected pattern", p) for e in part.expected for p in e.patterns]
    return found


def _leaks(rubric: Rubric, sealed_text: str) -> list[str]:
    values = list(_strings(json.loads(sealed_text)))
    squashed = [_squash(v) for v in values]
    leaks = []
    for where, secret in _secrets(rubric):
        key = _squash(secret)
        if len(key) < 4:  # "0", "1-p": too short to mean anything on their own
            continue
        if any(key in value for value in squashed):
            leaks.append(f"{where}: {secret!r}")
    return leaks


def test_sealed_a3_contains_no_reference_or_answer_text(a3_rubric: Rubric, sealed_a3: Rubric) -> None:
    text = sealed_json(sealed_a3)
    assert _leaks(a3_rubric, text) == []


def test_sealed_kinds_contains_no_reference_or_answer_text(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    text = sealed_json(sealed_kinds)
    assert _leaks(kinds_rubric, text) == []
    # the choice's correct option is stored only as a hash
    choice = json.loads(text)["rubric"]["questions"][8]["parts"][0]
    assert choice["kind"] == "sealed-choice" and choice["answer"] not in ("forward", "reverse")


def test_the_leak_check_would_catch_an_open_rubric(kinds_rubric: Rubric) -> None:
    """The check above is not vacuous: the open rubric as JSON fails it."""
    text = json.dumps({"rubric": kinds_rubric.model_dump(mode="json")})
    leaks = _leaks(kinds_rubric, text)
    assert any("latex" in leak for leak in leaks) and any("feedback_correct" in leak for leak in leaks)


def test_sealed_file_loads_back_and_lints_clean(sealed_a3: Rubric, sealed_a3_file: Path) -> None:
    loaded = load_rubric(sealed_a3_file)
    assert loaded == sealed_a3
    assert is_sealed(loaded)
    assert lint_rubric(sealed_a3_file) == []
    assert {part.kind for q in loaded.questions for part in q.parts} == {"sealed-math", "sealed-choice", "sealed-manual"}


def test_sealing_is_reproducible_with_a_secret_and_salted_otherwise(a3_rubric: Rubric) -> None:
    first = sealed_json(seal_rubric(a3_rubric, secret=SECRET, kdf=TEST_KDF)[0])
    assert first == sealed_json(seal_rubric(a3_rubric, secret=SECRET, kdf=TEST_KDF)[0])
    other = sealed_json(seal_rubric(a3_rubric, kdf=TEST_KDF)[0])
    assert other != first


def test_sealed_parts_drop_tests_guidance_and_hints(sealed_kinds: Rubric, kinds_rubric: Rubric) -> None:
    parts = {part.id: part for q in sealed_kinds.questions for part in q.parts}
    assert all(not part.tests for part in parts.values())
    assert parts["lambda"].feedback_incorrect == "" and parts["lambda"].feedback_correct == ""
    assert parts["proof"].kind == "sealed-manual" and not hasattr(parts["proof"], "expected")
    kept = {p.id: p for q in seal_rubric(kinds_rubric, secret=SECRET, keep_hints=True, kdf=TEST_KDF)[0].questions for p in q.parts}
    assert kept["lambda"].feedback_incorrect == WITHHELD  # the hint states the answer: withheld even then


def test_sealing_a_sealed_rubric_changes_nothing(sealed_kinds: Rubric) -> None:
    again, notes = seal_rubric(sealed_kinds, secret=b"other")
    assert again == sealed_kinds and notes == []


def test_unevaluable_reference_is_noted(kinds_rubric: Rubric) -> None:
    _, notes = seal_rubric(kinds_rubric, secret=SECRET, kdf=TEST_KDF)
    assert [(n.question, n.part) for n in notes] == [("6", "line")]
    assert "written exactly like the reference" in notes[0].message


def test_cli_seal_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "a3.sealed.json"
    result = CliRunner().invoke(main, ["rubric", "seal", str(A3), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rubric = load_rubric(A3)
    notes = seal_rubric(rubric, secret=SECRET, kdf=TEST_KDF)[1]
    parts = sum(len(q.parts) for q in rubric.questions)
    assert result.stdout == f"wrote {out}: {len(rubric.questions)} questions, {parts} parts sealed ({len(notes)} note(s))\n"
    assert result.stderr == "".join(f"note: {note.line()}\n" for note in notes)
    assert result.stderr.count("note: question 1.3, part closed-form: mistake") == 2
    assert is_sealed(load_rubric(out))
    lint = CliRunner().invoke(main, ["rubric", "lint", str(out)])
    assert (lint.exit_code, lint.stdout) == (0, f"{out}: ok\n")


def test_cli_seal_wants_a_json_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rubric", "seal", str(A3), "-o", str(tmp_path / "a3.toml")])
    assert result.exit_code == 2
    assert "the sealed rubric is JSON" in result.stderr


def test_broken_sealed_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "lint", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}: invalid JSON: ") and "[rubric.json_syntax]" in result.stderr
    bad.write_text('{"format": "grader-sealed-rubric/99", "rubric": {}}', encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "lint", str(bad)])
    assert result.exit_code == 1 and "[rubric.sealed_format]" in result.stderr
