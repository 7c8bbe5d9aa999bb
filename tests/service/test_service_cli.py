"""``grader serve`` on the command line: its options and its usage errors (the server itself: test_service_restart)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.service.config import Rate


def test_help_lists_the_deployment_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--data", "--db", "--rubrics", "--jobs", "--scheduler", "--check-rate"):
        assert option in result.output


@pytest.mark.parametrize("rate", ["fast", "0/10m", "3/0", "-1/5s"])
def test_a_bad_check_rate_is_a_usage_error(rate: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--check-rate", rate])
    assert result.exit_code == 2 and "COUNT/PERIOD" in result.output


@pytest.mark.parametrize(("text", "count", "seconds"), [("30/10m", 30, 600), ("600/60", 600, 60), ("5/1h", 5, 3600), (" 7 / 2.5s ", 7, 2.5)])
def test_rates(text: str, count: int, seconds: float) -> None:
    assert Rate.parse(text) == Rate(count, seconds)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense://x", "cannot be used"),
        ("postgresql://nobody:secret@127.0.0.1:1/none", "postgres"),  # no driver, or no server: either is said plainly
        ("sqlite:////nonexistent/dir/x.db", "cannot be used"),
    ],
)
def test_an_unusable_database_is_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "data"), "--db", url])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output, result.output
    assert "secret" not in result.output, "a password is never printed"
