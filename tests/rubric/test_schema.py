"""The rubric JSON Schema: editors complete rubric.toml from it, so it must describe every field,
accept every bundled rubric, and be the file the rubrics' ``#:schema`` comments point to."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.rubric.load import rubric_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "grader" / "rubric" / "rubric.schema.json"
RUBRICS = sorted(p.parent.name for p in (ROOT / "rubrics").glob("*/rubric.toml"))


def test_cli_prints_the_committed_schema_file() -> None:
    result = CliRunner().invoke(main, ["rubric", "schema"])
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8"), "regenerate: grader rubric schema > grader/rubric/rubric.schema.json"


def test_every_field_is_described_and_editors_can_find_it() -> None:
    schema = json.loads(rubric_schema())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["$id"].endswith("rubric.schema.json")
    undescribed = [f"{name}.{field}" for name, d in schema["$defs"].items() for field, v in d.get("properties", {}).items() if not v.get("description")]
    assert undescribed == []
    option = schema["$defs"]["ChoiceOption"]["properties"]
    assert option["statements"]["examples"] and "negation" in option["statements"]["description"]


@pytest.mark.parametrize("name", RUBRICS)
def test_bundled_rubrics_validate_and_point_to_the_schema(name: str) -> None:
    text = (ROOT / "rubrics" / name / "rubric.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema ../../grader/rubric/rubric.schema.json\n")
    jsonschema.validate(tomllib.loads(text), json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_schema_rejects_a_typo() -> None:
    schema = json.loads(rubric_schema())
    data = tomllib.loads((ROOT / "rubrics" / "calculus-ode" / "rubric.toml").read_text(encoding="utf-8"))
    data["questions"][0]["parts"][0]["refrence"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
