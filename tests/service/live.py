"""A real ``grader serve`` in a subprocess on 127.0.0.1, for the restart, browser and load tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from procs import live_processes

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.data_dir / "instructor-token").read_text().strip()

    def start(self, timeout: float = 120.0) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir / f"server-{time.monotonic_ns()}.log"
        command = [
            sys.executable, "-m", "grader", "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--data", str(self.data_dir), "--rubrics", str(HERE / "rubrics"), *self.args,
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"grader serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"grader serve did not answer within {timeout:g} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the server process only (its runner and workers must die by themselves)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token or self.token}"}, timeout=120)


def session_processes(pgid: int) -> list[int]:
    """Live processes of a process group (the server started its own session)."""
    return live_processes(group=pgid)
