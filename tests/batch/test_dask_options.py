"""A local Dask cluster is one user's: loopback only, no dashboard unless asked (needs no Dask)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import MINI
from click.testing import CliRunner

from grader.cli import main
from grader.grading.batch import make_executor
from grader.grading.executors.dask_executor import local_cluster_config, local_cluster_options


def test_a_local_cluster_listens_on_loopback_and_serves_no_dashboard() -> None:
    options, config = local_cluster_options(2), local_cluster_config()
    assert options["host"] == "127.0.0.1" and options["dashboard_address"] == "127.0.0.1:0"
    assert options["scheduler_kwargs"] == {"dashboard": False}
    assert config["distributed.scheduler.http.routes"] == config["distributed.worker.http.routes"] == []


def test_a_dashboard_when_asked_is_on_loopback_at_a_free_port() -> None:
    options, config = local_cluster_options(2, dashboard=True), local_cluster_config(dashboard=True)
    assert options["dashboard_address"] == "127.0.0.1:0" and options["scheduler_kwargs"] == {"dashboard": True}
    assert "distributed.scheduler.http.routes" not in config


@pytest.mark.parametrize(
    "args",
    [["--dashboard"], ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--dashboard"]],
    ids=["local executor", "remote scheduler"],
)
def test_dashboard_only_goes_with_a_local_dask_cluster(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--rubric", str(MINI), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert "--dashboard goes with --executor dask and a local cluster" in result.output


def test_make_executor_refuses_a_dashboard_it_cannot_serve() -> None:
    with pytest.raises(ValueError, match="only used with --executor dask"):
        make_executor("local", dashboard=True)
