"""Load benchmark of the service: N students self-checking at once on loopback, for a bounded time.

Usage::

    .venv/bin/python benchmarks/service_load.py [--students 20] [--seconds 60] [--think 0.5]
        [--rubric rubrics/a3] [--file-share 0.2] [--workers N]

It starts ``grader serve`` on 127.0.0.1 (a free port, a temporary data folder, a check rate
high enough that no student is refused), creates an assignment from ``--rubric``, issues one
student token per student, and runs one thread per student: each checks an answer (a known
mistake, a wrong number, a right answer or a sentence for a random question; with probability
``--file-share`` a whole sample answer file), waits ``--think`` seconds, and goes on until
``--seconds`` have passed (at most 100,000 requests in all; every request has a 120 s timeout).
The loop stops by itself and the server is stopped at the end.

It prints the latency of the checks (p50, p95, max; single answers and whole files apart), the
throughput, the errors by kind, and the submissions lost: checks the server answered that its
attempt log does not hold as checked, plus requests that got no answer at all. Only loopback
addresses are used.
"""

from __future__ import annotations

import argparse
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS = 100_000
WRONG_TEXT = ("1", "0", "2p", "\\frac{1}{2}")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"answer": [], "file": []})
    errors: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)  # per student: checks answered 200
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data: Path, port: int, rubrics: Path, workers: int | None) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "grader", "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data),
        "--rubrics", str(rubrics), "--check-rate", "100000/60s", "--jobs", "1",
    ]
    log = open(data.parent / "server.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"grader serve exited: see {data.parent / 'server.log'}")
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("grader serve did not start within 120 s")


def requests_for(rubric: dict[str, object], files: list[str]) -> list[tuple[str, dict[str, str]]]:
    """(kind, body) pool: answers to every question (mistakes, wrong numbers, sentences), whole files."""
    pool: list[tuple[str, dict[str, str]]] = []
    for question in rubric["questions"]:  # type: ignore[attr-defined]
        qid = question["id"]
        for part in question["parts"]:
            for mistake in part.get("mistakes", []):
                if mistake.get("answer"):
                    pool.append(("answer", {"question": qid, "latex": mistake["answer"]}))
            if part.get("reference"):
                pool.append(("answer", {"question": qid, "latex": part["reference"]}))
        pool += [("answer", {"question": qid, "latex": text}) for text in WRONG_TEXT]
        pool.append(("answer", {"question": qid, "latex": "I think it increases, so the first one."}))
    return pool + [("file", {"text": text}) for text in files]


def student(url: str, token: str, name: str, pool: list[tuple[str, dict[str, str]]], files: list[tuple[str, dict[str, str]]],
            args: argparse.Namespace, aid: str, stop_at: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    answers = [item for item in pool if item[0] == "answer"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        while time.monotonic() < stop_at:
            with tally.lock:
                if tally.sent >= MAX_REQUESTS:
                    return
                tally.sent += 1
            kind, body = rng.choice(files) if files and rng.random() < args.file_share else rng.choice(answers)
            started = time.monotonic()
            try:
                response = client.post(f"/api/assignments/{aid}/check", json=body)
            except httpx.HTTPError as error:
                with tally.lock:
                    tally.errors[f"no answer ({type(error).__name__})"] += 1
                continue
            elapsed = time.monotonic() - started
            with tally.lock:
                if response.status_code == 200:
                    tally.latencies[kind].append(elapsed)
                    tally.answered[name] += 1
                elif response.status_code == 422:
                    tally.latencies[kind].append(elapsed)  # answered: the input cannot be checked (said why)
                    tally.errors["422 (not checkable, explained)"] += 1
                else:
                    tally.errors[f"HTTP {response.status_code}"] += 1
            time.sleep(args.think)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.5, help="seconds a student waits between checks")
    parser.add_argument("--rubric", type=Path, default=ROOT / "rubrics" / "a3")
    parser.add_argument("--file-share", type=float, default=0.2, help="share of checks that send a whole answer file")
    parser.add_argument("--workers", type=int, default=None, help="(informational) the server uses one check process per core")
    args = parser.parse_args()
    if args.seconds > 600 or args.students > 200:
        raise SystemExit("bounded benchmark: at most 600 s and 200 students")

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        port = free_port()
        rubric_dir = args.rubric.resolve()
        server = start_server(data, port, rubric_dir.parent, args.workers)
        url = f"http://127.0.0.1:{port}"
        try:
            instructor = (data / "instructor-token").read_text().strip()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {instructor}"}, timeout=300) as api:
                made = api.post("/api/assignments", json={"rubric_path": rubric_dir.name, "title": "load"})
                made.raise_for_status()
                aid = made.json()["id"]
                tokens = {f"student{n:02d}": api.post("/api/tokens", json={"role": "student", "subject": f"student{n:02d}", "assignment_id": aid}).json()["token"] for n in range(args.students)}
            import tomllib

            rubric = tomllib.loads((rubric_dir / "rubric.toml").read_text())
            samples = [p.read_text() for p in sorted((ROOT / "submissions").glob("sample_*.md"))] + [(ROOT / "submissions" / "seed_student.md").read_text()]
            pool = requests_for(rubric, samples if rubric_dir.name == "a3" else [])
            files = [item for item in pool if item[0] == "file"]
            tally = Tally()
            # warm up: one check starts the check processes (they import the grader once)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {next(iter(tokens.values()))}"}, timeout=300) as warm:
                warm.post(f"/api/assignments/{aid}/check", json=next(body for kind, body in pool if kind == "answer"))
            started = time.monotonic()
            stop_at = started + args.seconds
            threads = [
                threading.Thread(target=student, args=(url, token, name, pool, files, args, aid, stop_at, tally, n), daemon=True)
                for n, (name, token) in enumerate(tokens.items())
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(args.seconds + 180)
            wall = time.monotonic() - started
            logged: Counter[str] = Counter()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {instructor}"}, timeout=300) as api:
                for attempt in api.get(f"/api/assignments/{aid}/attempts").json():
                    if attempt["outcome"] == "checked":
                        logged[attempt["student"]] += 1
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()

    everything = tally.latencies["answer"] + tally.latencies["file"]
    warm_logged = 1  # the warm-up check of the first student
    first = next(iter(tokens))
    logged[first] -= warm_logged
    lost_unlogged = sum(max(0, tally.answered[name] - logged[name]) for name in tokens)
    no_answer = sum(n for kind, n in tally.errors.items() if kind.startswith("no answer"))
    print(f"service load: {args.students} students, {args.seconds:g} s, think {args.think:g} s, rubric {rubric_dir.name}, on 127.0.0.1")
    print(f"  requests {tally.sent}, answered {len(everything)} in {wall:.1f} s ({len(everything) / wall:.1f}/s)")
    for kind in ("answer", "file"):
        values = tally.latencies[kind]
        if values:
            print(f"  {kind:6s} n={len(values):5d}  p50 {statistics.median(values) * 1000:7.0f} ms  p95 {quantile(values, 0.95) * 1000:7.0f} ms  max {max(values) * 1000:7.0f} ms")
    if everything:
        print(f"  all    n={len(everything):5d}  p50 {statistics.median(everything) * 1000:7.0f} ms  p95 {quantile(everything, 0.95) * 1000:7.0f} ms  max {max(everything) * 1000:7.0f} ms")
    print(f"  errors: {dict(tally.errors) or 'none'}")
    print(f"  lost submissions: {lost_unlogged + no_answer} (answered but not logged as checked: {lost_unlogged}; no answer: {no_answer})")
    print(f"  attempts logged as checked: {sum(logged.values())} for {sum(tally.answered.values())} checks answered")


if __name__ == "__main__":
    main()
