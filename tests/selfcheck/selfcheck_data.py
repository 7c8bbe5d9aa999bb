"""Data shared by the self-check tests (a module of its own: test files cannot import conftest
reliably when several conftest.py files exist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader._internal.secretbox import KdfParams

ROOT = Path(__file__).resolve().parents[2]
A3 = ROOT / "rubrics" / "a3"
SECRET = b"tests/selfcheck"

KINDS_DATA: dict[str, Any] = {
    "assignment": {"id": "kinds", "title": "Every kind of reference"},
    "dimensions": {"n": 4, "d": 2},
    "symbols": {
        "p": {"kind": "scalar", "domain": "(0, 1)"},
        "q": {"kind": "scalar", "domain": "positive"},
        "lambda": {"kind": "scalar", "domain": "positive"},
        "X": {"kind": "matrix", "shape": ["n", "d"]},
        "y": {"kind": "matrix", "shape": ["n", 1]},
        "p_0": {"kind": "function"},
        "p_1": {"kind": "function"},
    },
    "questions": [
        {
            "id": "1",
            "points": 2,
            "parts": [
                {
                    "id": "lambda",
                    "kind": "symbolic",
                    "points": 2,
                    "target": r"\lambda",
                    "reference": r"\frac{1-p}{p}",
                    "feedback_correct": "Right: lambda = (1 - p)/p.",
                    "feedback_incorrect": "Hint: divide by p to get (1 - p)/p.",
                    "mistakes": [
                        {"id": "inverted", "answer": r"\frac{p}{1-p}", "feedback": "Inverted: it is (1 - p)/p.", "points": 1}
                    ],
                }
            ],
        },
        {
            "id": "2",
            "points": 1,
            "parts": [{"id": "third", "kind": "numeric", "points": 1, "target": "x", "reference": r"\frac{1}{3}"}],
        },
        {
            "id": "3",
            "points": 1,
            "parts": [
                {
                    "id": "jacobian",
                    "kind": "symbolic",
                    "points": 1,
                    "target": "J",
                    "reference": r"\begin{pmatrix} 0 & -\frac{1}{2} \\ \frac{1}{2} & 0 \end{pmatrix}",
                }
            ],
        },
        {
            "id": "4",
            "points": 1,
            "parts": [
                {"id": "eigen", "kind": "numeric", "points": 1, "target": r"\mu", "reference": r"-\frac{1}{2}, \pm\frac{i}{2}"}
            ],
        },
        {
            "id": "5",
            "points": 1,
            "parts": [{"id": "point", "kind": "symbolic", "points": 1, "target": "(a, b, c)", "reference": "(0, 0, 1)"}],
        },
        {
            "id": "6",
            "points": 1,
            "parts": [{"id": "line", "kind": "symbolic", "points": 1, "reference": "x + y = 1"}],
        },
        {
            "id": "7",
            "points": 1,
            "parts": [
                {
                    "id": "ratio",
                    "kind": "symbolic",
                    "points": 1,
                    "target": "D",
                    "reference": r"\frac{p_1(x)}{p_0(x) + p_1(x)}",
                    "mistakes": [
                        {"id": "swapped", "answer": r"\frac{p_0(x)}{p_0(x) + p_1(x)}", "feedback": "Swapped.", "points": 0}
                    ],
                }
            ],
        },
        {
            "id": "8",
            "points": 2,
            "parts": [
                {
                    "id": "ridge",
                    "kind": "symbolic",
                    "points": 2,
                    "target": "w",
                    "reference": r"(X^\top X + \lambda I)^{-1} X^\top y",
                    "mistakes": [
                        {"id": "no-lambda", "answer": r"(X^\top X)^{-1} X^\top y", "feedback": "Add the penalty.", "points": 1}
                    ],
                }
            ],
        },
        {
            "id": "9",
            "points": 1,
            "parts": [
                {
                    "id": "which",
                    "kind": "choice",
                    "points": 1,
                    "answer": "forward",
                    "feedback_correct": "Right: the forward KL.",
                    "options": [{"id": "forward", "patterns": [r"\bforward\b"]}, {"id": "reverse", "patterns": [r"\breverse\b"]}],
                    "mistakes": [{"id": "swapped-kl", "option": "reverse", "feedback": "Not reverse: forward.", "points": 0}],
                }
            ],
        },
        {
            "id": "10",
            "points": 2,
            "parts": [
                {
                    "id": "proof",
                    "kind": "manual",
                    "points": 2,
                    "guidance": "Key step: the log-det terms cancel.",
                    "expected": [{"id": "cancel", "description": "the log-det terms cancel", "patterns": ["cancel"]}],
                }
            ],
        },
    ],
}



#: Sealing in tests uses a cheap scrypt (the default costs a guess about 0.1 s; see
#: benchmarks/sealed_attack.py): the gates and boxes are the same, only slower to brute-force.
TEST_KDF = KdfParams(n=2**8, r=4)
