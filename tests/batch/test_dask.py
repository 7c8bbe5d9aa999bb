"""The Dask executor on a LocalCluster: the same bytes as the local pool, failures per submission,
and clear errors when the cluster cannot be used. Skipped without the ``grader[dask]`` extra."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import MINI, children, tree_bytes, write_class
from click.testing import CliRunner

pytest.importorskip("distributed")

import grader.grading.executors.dask_executor as dask_executor
from grader.cli import main
from grader.grading.batch import grade_batch
from grader.grading.executors.base import ExecutorUnavailable
from grader.grading.executors.dask_executor import DaskExecutor
from grader.grading.pipeline import Limits
from grader.rubric.models import Rubric

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _no_resource_tracker_left() -> Iterator[None]:
    """Dask's clusters start multiprocessing's resource tracker in this process, where it would stay
    until pytest exits and show up in later tests that check no child process is left behind."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    running_before = getattr(tracker, "_pid", None) is not None
    yield
    if not running_before and hasattr(tracker, "_stop"):
        tracker._stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}):
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        yield local
    finally:
        local.close()


def test_dask_writes_the_bytes_of_the_local_pool(tmp_path: Path, mini: Rubric, cluster: Any) -> None:
    files = write_class(tmp_path / "in", 6)
    empty = tmp_path / "in" / "empty.md"
    empty.write_bytes(b"")
    local = grade_batch([*files, empty], mini, tmp_path / "local", rubric_sha256="d", jobs=1)
    with DaskExecutor(cluster.scheduler_address) as executor:
        remote = grade_batch([*files, empty], mini, tmp_path / "dask", rubric_sha256="d", executor=executor)
    assert tree_bytes(tmp_path / "local") == tree_bytes(tmp_path / "dask")
    assert [r.problems for r in remote.results] == [r.problems for r in local.results]
    assert remote.executor == "dask" and {r.worker for r in remote.results[:6]} <= set(cluster.scheduler_info["workers"])


def test_a_hostile_submission_is_bounded_on_a_dask_worker(tmp_path: Path, a3_rubric: Rubric, cluster: Any) -> None:
    with DaskExecutor(cluster.scheduler_address) as executor:
        result = grade_batch(
            [ROOT / "submissions" / "hostile_bombs.md"],
            a3_rubric,
            tmp_path / "out",
            executor=executor,
            limits=Limits(timeout_s=5, memory_mb=512),
        )
    report = result.results[0].report
    assert report is not None
    assert all(q.status != "missing" for q in report.questions)


def test_cli_grades_on_a_scheduler(tmp_path: Path, cluster: Any) -> None:
    files = write_class(tmp_path / "in", 2)
    out = tmp_path / "out"
    args = ["grade", str(tmp_path / "in"), "--rubric", str(MINI), "--out", str(out), "--progress", "none"]
    result = CliRunner().invoke(main, [*args, "--executor", "dask", "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{files[0]}: 6 / 6 (graded)\n{files[1]}: 1 / 6 (graded)\nwrote 2 report(s), index.html and grades.csv to {out}\n"
    )


def test_an_unreachable_scheduler_is_reported_before_grading(
    tmp_path: Path, mini: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_executor, "_CONNECT_TIMEOUT_S", 1)
    files = write_class(tmp_path / "in", 1)
    with pytest.raises(ExecutorUnavailable, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        grade_batch(files, mini, tmp_path / "out", executor="dask", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "out" / "s00.json").exists()


def test_without_a_scheduler_a_local_cluster_is_started_and_stopped(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 3)
    before = set(children())  # e.g. the module's shared cluster
    result = grade_batch(files, mini, tmp_path / "out", executor="dask", jobs=2)
    assert [r.report.score if r.report else None for r in result.results] == [6, 1, 4]
    # Python's multiprocessing resource tracker stays until the module ends (see above).
    left = [pid for pid in set(children()) - before if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
    assert left == []


def test_a_local_cluster_listens_on_loopback_and_has_no_dashboard(tmp_path: Path, mini: Rubric) -> None:
    with DaskExecutor(jobs=1) as executor:
        result = grade_batch(write_class(tmp_path / "in", 1), mini, tmp_path / "out", executor=executor)
        (cluster,) = [owned for owned in executor._owned if hasattr(owned, "scheduler_address")]
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert all(address.startswith("tcp://127.0.0.1:") for address in cluster.scheduler_info["workers"])
        web = cluster.scheduler.services["dashboard"]  # Dask always opens its web server ...
        for path in ("/status", "/info/main/workers.html", "/metrics"):  # ... which must answer nothing
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(f"http://127.0.0.1:{web.port}{path}", timeout=10)
    assert result.graded == 1 and executor.dashboard_link is None
