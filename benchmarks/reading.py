"""Reading real submissions: agreement with hand-written expected verdicts, per corpus file.

Usage::

    .venv/bin/python benchmarks/reading.py [CORPUS_DIR ...]

By default every folder under ``tests/corpus/`` (the a3 corpus and a small corpus for another
rubric). Each submission's expected status per question was written from the answer key, not
from grader's output (see ``tests/answers/corpus_agreement.py``). Prints one line per file and a
total: agreement, false accepts (credit the key does not give), silent zeros (a written answer
finished as missing, or a file graded 0 without review) and seconds per file.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "answers"))

from corpus_agreement import CORPORA, grade_corpus  # noqa: E402


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or sorted(p for p in CORPORA.iterdir() if p.is_dir())
    total = agree = accepts = zeros = 0
    for folder in folders:
        print(f"\n== {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}")
        print(f"{'file':34} {'format':9} {'agree':>7} {'false acc':>9} {'silent 0':>8} {'status':>13} {'s':>6}")
        for result in grade_corpus(folder):
            n = len(result.rows)
            total += n
            agree += result.agree
            accepts += len(result.false_accepts)
            zeros += len(result.silent_zeros)
            print(
                f"{result.name:34} {result.format:9} {result.agree:>3}/{n:<3} {len(result.false_accepts):>9} "
                f"{len(result.silent_zeros):>8} {result.report_status:>13} {result.seconds:6.1f}"
            )
            for qid, want, got in result.rows:
                if want != got:
                    print(f"    {qid}: expected {want}, got {got}")
    print(f"\nTOTAL agreement {agree}/{total} = {100 * agree / max(total, 1):.1f}%, false accepts {accepts}, silent zeros {zeros}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
