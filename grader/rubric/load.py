"""Reading and validating rubric files; every problem names file, question, part and field.

This is the schema half; what only a checker can judge (a reference that does not parse) is
``grader.checking.lint``, which ``load_rubric`` there runs after this.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from grader.errors import Problem
from grader.rubric.models import PART_MODELS, Rubric

RUBRIC_FILE = "rubric.toml"
MAX_RUBRIC_BYTES = 5_000_000


SEALED_FORMAT = "grader-sealed-rubric/2"
OLD_SEALED_FORMATS = frozenset({"grader-sealed-rubric/1"})


def rubric_path(path: Path) -> Path:
    """A rubric folder holds ``rubric.toml``; a path to the file itself (TOML, or a sealed
    rubric's JSON) works too."""
    return path / RUBRIC_FILE if path.is_dir() else path


def rubric_digest(path: Path | str) -> str:
    return hashlib.sha256(rubric_path(Path(path)).read_bytes()).hexdigest()


SCHEMA_ID = "https://grader.invalid/schema/rubric.schema.json"

#: Descriptions (and examples) of fields the models leave undescribed, by field name, so every
#: field an editor completes says what it is for.
_FIELD_DOCS: dict[str, tuple[str, object]] = {
    "kind": ("which checker decides this part (or, in [symbols], what kind of symbol this is)", "symbolic"),
    "points": ("points this part (or question) is worth; a question's parts add up to its points", 2),
    "title": ("a short human title, shown in reports", "Dropout solution"),
    "course": ("the course, for reports", "Statistics 101"),
    "mistakes": ("common wrong answers, each with feedback and the points it still earns", None),
    "rtol": ("relative tolerance of a numeric comparison; rtol = atol = 0 means exact", 1e-6),
    "atol": ("absolute tolerance of a numeric comparison; rtol = atol = 0 means exact", 1e-9),
    "expected": ("elements a good answer contains, found by patterns; they propose a score for a person", None),
    "parts": ("the parts of the question, each decided by the checker its 'kind' names", None),
    "mode": ("what the dynamics part checks: the field, the Jacobian, stationary points or stability", "stability"),
    "divergence": ("the divergence the expression must equal", "jsd"),
    "weight": ("the element's share of the proposed score", 1.0),
    "expect": ("the verdict this test answer must get", "right"),
    "note": ("why the test is there, for the rubric's readers", "the inverse written with p^{-1}"),
    "arity": ("how many arguments the function takes", 1),
    "description": ("what the symbol (or declaration) stands for, for people", "the dropout mask"),
    "latex": ("other ways students write this symbol, in LaTeX", ["\\lambda_2"]),
    "shape": ("the matrix's shape, in named dimensions or numbers", ["n", "d"]),
    "structure": ("the matrix's structure: random matrices are drawn with it", "diagonal"),
    "domain": ("the values the scalar takes: an interval such as '(0, 1)', or 'positive'", "(0, 1)"),
    "distribution": ("how the random variable is drawn", "bernoulli"),
    "id": ("a stable id, used by reports, mistakes and tests", "mean-mask"),
    "about": ("phrases naming the situation asked about; only matching list items or sentences are read", None),
    "scope": ("advanced: a regex selecting the paragraphs to read", None),
    "terms": ("named terms: phrases (or a regex) that name each", None),
    "options": ("the claims a student can make", None),
}


def rubric_schema() -> str:
    """The JSON Schema of rubric files: every field described, ``$schema``/``$id`` for editors
    (taplo / Even Better TOML read it from a ``#:schema`` comment at the top of rubric.toml)."""
    schema = Rubric.model_json_schema()
    schema["title"] = "grader rubric"
    schema["description"] = "A grader rubric (rubrics/<name>/rubric.toml): see the README, 'Writing a rubric for your course'."
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    for definition in [schema, *schema.get("$defs", {}).values()]:
        for name, field in definition.get("properties", {}).items():
            doc = _FIELD_DOCS.get(name)
            if doc is None:
                field.setdefault("description", "part of a sealed rubric, written by 'grader rubric seal'; do not edit")
                continue
            field.setdefault("description", doc[0])
            if doc[1] is not None and "examples" not in field:
                field["examples"] = [doc[1]]
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False)


def read_rubric(path: Path | str) -> tuple[Rubric | None, list[Problem]]:
    """The rubric if its file is valid, and every schema problem found (semantic ones: ``grader.checking.lint``)."""
    return _read(Path(path))


def _read(path: Path) -> tuple[Rubric | None, list[Problem]]:
    file = rubric_path(path)
    shown = str(file)
    if not file.is_file():
        fix = f"create {RUBRIC_FILE} in that folder" if path.is_dir() else "pass a rubric folder or its rubric.toml"
        return None, [Problem(code="rubric.not_found", message="no rubric file here", file=shown, fix=fix)]
    if file.stat().st_size > MAX_RUBRIC_BYTES:
        return None, [Problem(code="rubric.too_large", message="the rubric file is larger than 5 MB", file=shown, fix="split it or remove embedded data")]
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(code="rubric.encoding", message=f"not UTF-8 text (byte {exc.start})", file=shown, fix="save the rubric as UTF-8")]
    if file.suffix.lower() == ".json":
        loaded = _json_rubric(text, shown)
        if isinstance(loaded, Problem):
            return None, [loaded]
        raw = loaded
    else:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return None, [Problem(code="rubric.toml_syntax", message=f"invalid TOML: {exc}", file=shown, fix="fix the TOML syntax at that line")]
    try:
        rubric = Rubric.model_validate(raw)
    except ValidationError as exc:
        return None, _validation_problems(exc, raw, shown)
    return rubric, []


def _json_rubric(text: str, file: str) -> dict[str, Any] | Problem:
    """A sealed rubric (``{"format": ..., "rubric": {...}}``, see grader.rubric.seal) or a bare rubric as JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(
            code="rubric.json_syntax",
            message=f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            file=file,
            fix="seal the rubric again with 'grader rubric seal', or fix the JSON at that line",
        )
    if not isinstance(data, dict):
        return Problem(code="rubric.json_syntax", message="the JSON is not an object", file=file, fix="pass a rubric written by 'grader rubric seal'")
    if "format" in data:
        if data.get("format") in OLD_SEALED_FORMATS:
            return Problem(
                code="rubric.sealed_format",
                message=(
                    f"this sealed rubric is in the old format {data.get('format')!r}, whose answers could be read "
                    f"off the file; this grader reads only {SEALED_FORMAT!r}"
                ),
                file=file,
                fix="ask your instructor for a copy sealed with this version of grader ('grader rubric seal')",
            )
        if data.get("format") != SEALED_FORMAT or not isinstance(data.get("rubric"), dict):
            return Problem(
                code="rubric.sealed_format",
                message=f"unknown sealed rubric format {data.get('format')!r} (this grader reads {SEALED_FORMAT!r})",
                file=file,
                fix="seal the rubric again with this version of grader",
            )
        return dict(data["rubric"])
    return data


_KNOWN_FIELDS: set[str] | None = None


def _known_fields() -> set[str]:
    """Every field name any rubric model accepts, for 'did you mean' suggestions."""
    global _KNOWN_FIELDS
    if _KNOWN_FIELDS is None:
        names: set[str] = set()
        seen: set[type[BaseModel]] = set()
        stack: list[type[BaseModel]] = [Rubric]
        while stack:
            model = stack.pop()
            if model in seen:
                continue
            seen.add(model)
            for name, info in model.model_fields.items():
                names.add(name)
                stack.extend(_models_in(info.annotation))
        _KNOWN_FIELDS = names
    return _KNOWN_FIELDS


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            found.append(current)
        stack.extend(typing.get_args(current))
    return found


def _validation_problems(exc: ValidationError, raw: dict[str, Any], file: str) -> list[Problem]:
    kinds = set(PART_MODELS) | {"scalar", "matrix", "function"}
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        question = part = None
        fields: list[str] = []
        node: Any = raw
        i = 0
        while i < len(loc):
            key = loc[i]
            if isinstance(key, int) and isinstance(node, list):
                node = node[key] if key < len(node) else {}
                label = node.get("id") if isinstance(node, dict) else None
                parent = fields.pop() if fields else ""
                if parent == "questions":
                    question = str(label) if label is not None else f"#{key + 1}"
                elif parent == "parts":
                    part = str(label) if label is not None else f"#{key + 1}"
                else:
                    fields.append(f"{parent}[{label if label is not None else key}]")
            elif isinstance(key, str) and key in kinds and i > 0 and isinstance(node, dict) and node.get("kind") == key:
                pass  # the discriminator tag pydantic inserts into the location
            else:
                fields.append(str(key))
                node = node.get(key, {}) if isinstance(node, dict) else {}
            i += 1
        field = ".".join(fields) or None
        message, fix = _explain(error, fields)
        problems.append(
            Problem(code=f"rubric.{error['type']}", message=message, file=file, question=question, part=part, field=field, fix=fix)
        )
    return problems


def _explain(error: Any, fields: list[str]) -> tuple[str, str]:
    kind = error["type"]
    name = fields[-1] if fields else "value"
    if kind == "missing":
        return "this required field is missing", f"add '{name} = ...'"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(name, sorted(_known_fields()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it or check its spelling"
        return f"unknown field '{name}'", hint
    if kind == "union_tag_not_found":
        return "'kind' is missing", f"add 'kind = ...', one of: {error['ctx']['expected_tags']}"
    if kind == "union_tag_invalid":
        return f"unknown kind {error['ctx']['tag']!r}", f"set kind to one of: {error['ctx']['expected_tags']}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message, "correct the value as the message says"
