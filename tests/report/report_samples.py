"""Hand-built rubric and reports for the report tests: independent of the math engine's progress.

Every value a student controls in a real report (file name, extracted text and LaTeX, phrases in
evidence, feedback echoing the answer, warnings) carries a hostile payload in ``hostile.md``.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from grader.answers.models import Extraction
from grader.checking.result import PartResult
from grader.reports.mathml import ALLOWED_ELEMENTS
from grader.reports.roster import Roster, parse_roster
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report

SCRIPT = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.body.appendChild(document.createElement('div')).id='pwned'\">"
HOSTILE_NAME = 'evil"><img src=x onerror=alert(1)>.md'

RUBRIC_DATA: dict[str, Any] = {
    "assignment": {
        "id": "t1",
        "title": "Test assignment",
        "course": "Course <b>101</b>",
        "due": "2020-04-12",
    },
    "settings": {"show_reference": False},
    "dimensions": {},
    "symbols": {"p": {"kind": "scalar", "domain": "(0, 1)"}},
    "questions": [
        {
            "id": "1",
            "title": "Dropout coefficient",
            "points": 5,
            "prompt": "Find λ and say how it depends on p.",
            "parts": [
                {
                    "id": "lambda",
                    "kind": "symbolic",
                    "points": 3,
                    "target": r"\lambda",
                    "reference": r"\frac{1-p}{p}",
                    "mistakes": [
                        {
                            "id": "lambda-inverted",
                            "answer": r"\frac{p}{1-p}",
                            "feedback": "Your λ is inverted.",
                            "points": 1,
                        }
                    ],
                },
                {
                    "id": "effect",
                    "kind": "choice",
                    "points": 2,
                    "answer": "decreasing",
                    "options": [
                        {"id": "decreasing", "label": "λ decreases as p increases", "patterns": ["decreas"]},
                        {"id": "increasing", "label": "λ increases as p increases", "patterns": ["increas"]},
                    ],
                    "mistakes": [
                        {"id": "grows-with-p", "option": "increasing", "feedback": "It shrinks as p grows."}
                    ],
                },
            ],
        },
        {
            "id": "2",
            "title": "Jacobian",
            "points": 2,
            "parts": [
                {
                    "id": "jacobian",
                    "kind": "symbolic",
                    "points": 2,
                    "target": "J",
                    "reference": r"\begin{pmatrix} 0 & -\frac{1}{2} \\ \frac{1}{2} & 0 \end{pmatrix}",
                }
            ],
        },
        {
            "id": "3",
            "title": "Proof",
            "points": 4,
            "parts": [
                {
                    "id": "proof",
                    "kind": "manual",
                    "points": 4,
                    "expected": [
                        {"id": "cancel", "description": "the log-det terms cancel", "patterns": ["cancel"]}
                    ],
                }
            ],
        },
    ],
}


def rubric() -> Rubric:
    return Rubric.model_validate(RUBRIC_DATA)


def _math(question: str, part: str, latex: str, line: int, target: str) -> Extraction:
    return Extraction(
        question_id=question,
        part_id=part,
        how="target_equation",
        latex=latex,
        text=f"{target} = {latex}",
        line=line,
        formula=f"{target} = {latex}",
        description=f"read the right-hand side of {target} = … on line {line}",
    )


def _prose(question: str, part: str, text: str, line: int) -> Extraction:
    return Extraction(
        question_id=question,
        part_id=part,
        how="prose",
        text=text,
        line=line,
        description=f"read the answer as text (line {line})",
    )


def _part(
    part_id: str, kind: str, status: str, verdict: str, score: float, max_score: float, **extra: Any
) -> PartResult:
    return PartResult.model_validate(
        {
            "id": part_id,
            "kind": kind,
            "status": status,
            "verdict": verdict,
            "score": score,
            "max_score": max_score,
            **extra,
        }
    )


def _question(
    qid: str, title: str, status: str, parts: list[PartResult], lines: tuple[int, int] | None
) -> QuestionResult:
    return QuestionResult(
        id=qid,
        title=title,
        score=sum(p.score for p in parts),
        max_score=sum(p.max_score for p in parts),
        status=status,
        answer_lines=lines,
        parts=parts,
    )


def _report(name: str, questions: list[QuestionResult], warnings: list[str] | None = None) -> Report:
    review = any(q.status in ("needs_review", "error") for q in questions)
    return Report(
        submission=name,
        rubric="t1",
        grader_version="0.1.0",
        submission_sha256=("ab" * 32),
        rubric_sha256=("cd" * 32),
        score=sum(q.score for q in questions),
        max_score=11,
        status="needs_review" if review else "graded",
        questions=questions,
        warnings=warnings or [],
    )


JACOBIAN_REFERENCE = r"\begin{pmatrix} 0 & -\frac{1}{2} \\ \frac{1}{2} & 0 \end{pmatrix}"
JACOBIAN_FLIPPED = r"\begin{pmatrix} 0 & \frac{1}{2} \\ -\frac{1}{2} & 0 \end{pmatrix}"
PROOF_TEXT = "Change variables with $u = F^{-1}(x)$; the terms $\\log|\\det J|$ cancel."


def alice() -> Report:
    """Everything right except the proof, which always goes to a person."""
    return _report(
        "alice.md",
        [
            _question(
                "1",
                "Dropout coefficient",
                "correct",
                [
                    _part("lambda", "symbolic", "correct", "right", 3, 3, method="structural",
                          extracted=_math("1", "lambda", r"\frac{1-p}{p}", 4, r"\lambda")),
                    _part("effect", "choice", "correct", "right", 2, 2, method="choice-phrase",
                          extracted=_prose("1", "effect", "λ decreases as p increases.", 5),
                          evidence={"phrases": [{"option": "decreasing", "phrase": "decreases", "at": 2}], "relations": [], "chosen": "decreasing"}),
                ],
                (4, 5),
            ),
            _question("2", "Jacobian", "correct", [
                _part("jacobian", "symbolic", "correct", "right", 2, 2, method="structural",
                      extracted=_math("2", "jacobian", JACOBIAN_REFERENCE, 8, "J")),
            ], (8, 8)),
            _question("3", "Proof", "needs_review", [
                _part("proof", "manual", "needs_review", "undecided", 4, 4, method="manual", proposed_score=4,
                      extracted=_prose("3", "proof", PROOF_TEXT, 11),
                      reasons=["a person must judge this answer (proof or free text)", "found: the log-det terms cancel"],
                      evidence={"found": ["cancel"], "missing": [], "mistakes": []}),
            ], (11, 11)),
        ],
    )  # fmt: skip


def bob() -> Report:
    """The common mistakes: inverted λ, the wrong option, flipped matrix entries, a weak proof."""
    return _report(
        "bob.md",
        [
            _question(
                "1",
                "Dropout coefficient",
                "partial",
                [
                    _part("lambda", "symbolic", "partial", "wrong", 1, 3, method="numeric", mistake="lambda-inverted",
                          feedback=["Your λ is inverted."],
                          extracted=_math("1", "lambda", r"\frac{p}{1-p}", 3, r"\lambda"),
                          evidence={"comparisons": [
                              {"verdict": "not_equivalent", "method": "numeric", "detail": "at p = 0.3 yours gives 0.4286, expected 2.333",
                               "counterexample": {"point": {"p": 0.3}, "student": 0.428571, "reference": 2.33333}, "wrong_entries": None},
                              {"verdict": "not_equivalent", "method": "numeric", "detail": "at p = 0.3 yours gives 0.4286, expected 2.333",
                               "counterexample": {"point": {"p": 0.3}, "student": 0.428571, "reference": 2.33333}, "wrong_entries": None},
                          ]}),
                    _part("effect", "choice", "incorrect", "wrong", 0, 2, method="choice-phrase", mistake="grows-with-p",
                          feedback=["Your answer reads as: λ increases as p increases.", "It shrinks as p grows."],
                          extracted=_prose("1", "effect", "So λ increases with p.", 4),
                          evidence={"phrases": [{"option": "increasing", "phrase": "increases", "at": 5}], "relations": [], "chosen": "increasing"}),
                ],
                (3, 4),
            ),
            _question("2", "Jacobian", "incorrect", [
                _part("jacobian", "symbolic", "incorrect", "wrong", 0, 2, method="entrywise",
                      feedback=["2 entries differ: row 1, column 2: yours 1/2, expected -1/2; row 2, column 1: yours -1/2, expected 1/2"],
                      extracted=_math("2", "jacobian", JACOBIAN_FLIPPED, 7, "J"),
                      evidence={"comparisons": [{"verdict": "not_equivalent", "method": "entrywise", "detail": "2 entries differ",
                                                 "counterexample": None, "wrong_entries": [[1, 2], [2, 1]]}]}),
            ], (7, 7)),
            _question("3", "Proof", "needs_review", [
                _part("proof", "manual", "needs_review", "undecided", 2, 4, method="manual", proposed_score=2,
                      extracted=_prose("3", "proof", "It follows by symmetry.", 10),
                      reasons=["a person must judge this answer (proof or free text)", "not found: the log-det terms cancel"],
                      evidence={"found": [], "missing": ["cancel"], "mistakes": []}),
            ], (10, 10)),
        ],
    )  # fmt: skip


def carol() -> Report:
    """Bob's λ written with other spacing (the same normalised answer), the same proof, no Jacobian."""
    return _report(
        "carol.md",
        [
            _question(
                "1",
                "Dropout coefficient",
                "partial",
                [
                    _part("lambda", "symbolic", "partial", "wrong", 1, 3, method="numeric", mistake="lambda-inverted",
                          feedback=["Your λ is inverted."],
                          extracted=_math("1", "lambda", r"\frac{p}{1 - p}", 3, r"\lambda")),
                    _part("effect", "choice", "correct", "right", 2, 2, method="choice-phrase",
                          extracted=_prose("1", "effect", "It decreases.", 4)),
                ],
                (3, 4),
            ),
            _question("2", "Jacobian", "missing", [
                _part("jacobian", "symbolic", "missing", "wrong", 0, 2, method="none", feedback=["No answer was found for this question."]),
            ], None),
            _question("3", "Proof", "needs_review", [
                _part("proof", "manual", "needs_review", "undecided", 1.5, 4, method="manual", proposed_score=1.5,
                      extracted=_prose("3", "proof", "It  follows by   symmetry.", 9),
                      reasons=["a person must judge this answer (proof or free text)", "not found: the log-det terms cancel"]),
            ], (9, 9)),
        ],
    )  # fmt: skip


def hostile() -> Report:
    """Every student-controlled string is an injection attempt."""
    text = f'{IMG} {{{{ 7*7 }}}} {{% for x in range(3) %}}loop{{% endfor %}} <a href="javascript:alert(1)">x</a> $\\text{{{SCRIPT}}}$ {SCRIPT}'
    return _report(
        HOSTILE_NAME,
        [
            _question(
                "1",
                "Dropout coefficient",
                "needs_review",
                [
                    _part("lambda", "symbolic", "needs_review", "undecided", 0, 3, method="numeric", proposed_score=0,
                          feedback=[f"grader could not read your formula: {SCRIPT}"],
                          extracted=_math("1", "lambda", r"\frac{1-p}{p} \text{" + SCRIPT + "}", 3, r"\lambda"),
                          reasons=[f"the text \"{SCRIPT}\" cannot be evaluated"],
                          evidence={"comparisons": [{"verdict": "undecided", "method": "none", "detail": f"cannot evaluate {IMG}",
                                                     "counterexample": {"point": {"p<b>": "<i>0.3</i>"}, "student": SCRIPT, "reference": 1}}]}),
                    _part("effect", "choice", "needs_review", "undecided", 0, 2, method="choice-phrase", proposed_score=0,
                          extracted=_prose("1", "effect", text, 4),
                          reasons=["the answer mentions several options (decreasing, increasing)"],
                          evidence={"phrases": [{"option": "increasing", "phrase": f"{IMG} increases", "at": 0}],
                                    "relations": [{"option": "decreasing", "relation": "x > y", "latex": r"\href{javascript:alert(1)}{a} > \text{" + IMG + "}"}],
                                    "step": {"latex": SCRIPT, "note": "<u>generic evidence</u>"}}),
                ],
                (3, 4),
            ),
            _question("2", "Jacobian", "incorrect", [
                _part("jacobian", "symbolic", "incorrect", "wrong", 0, 2, method="entrywise",
                      extracted=_math("2", "jacobian", r"\begin{pmatrix} 1 & \text{</mtext></mtd></mtr></mtable></math>" + SCRIPT + r"} \\ 0 & 1 \end{pmatrix}", 7, "J"),
                      evidence={"comparisons": [{"verdict": "not_equivalent", "method": "entrywise", "detail": "1 entry differs", "wrong_entries": [[1, 2]]}]}),
            ], (7, 7)),
            _question("3", "Proof", "needs_review", [
                _part("proof", "manual", "needs_review", "undecided", 0, 4, method="manual", proposed_score=0,
                      extracted=_prose("3", "proof", f"\"><iframe srcdoc=\"{SCRIPT}\"></iframe> </textarea></title></style>{SCRIPT}", 9),
                      reasons=[f"recognised mistake: {IMG}"]),
            ], (9, 9)),
        ],
        warnings=[f"line 1: unclosed $ near {SCRIPT}"],
    )  # fmt: skip


def all_reports() -> list[Report]:
    return [alice(), bob(), carol(), hostile()]


ROSTER_CSV = (
    "submission,name,id,sis_user_id,sis_login_id,section,email,id_number\n"
    'alice.md,"Liddell, Alice",1001,S1001,aliddell,Section 1,alice@example.edu,S1001\n'
    "bob,Bob Builder,1002,S1002,bbuilder,Section 2,bob@example.edu,S1002\n"
    "submissions/carol.md,Carol <Danvers>,1003,S1003,cdanvers,Section 1,carol@example.edu,S1003\n"
    f'"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",=HYPERLINK(1),1004,S1004,evil,Section 2,,S1004\n'
)


def roster() -> Roster:
    return parse_roster(ROSTER_CSV, source="roster.csv")


class TagCollector(HTMLParser):
    """Every element and attribute a browser's parser would create from a page's source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def tags_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector.tags


# Every element the report and summary templates write; anything else came from input.
TEMPLATE_ELEMENTS = frozenset(
    {
        "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "nav", "section",
        "article", "h1", "h2", "h3", "p", "span", "div", "a", "ul", "ol", "li", "dl", "dt", "dd", "table",
        "thead", "tbody", "tr", "th", "td", "strong", "code", "br", "svg", "rect", "line", "text", "figure",
        "figcaption", "em", "blockquote", "hr", "pre", "h4", "h5", "h6",  # Markdown in answers
    }
)  # fmt: skip


def assert_no_injected_markup(html: str) -> None:
    """Only template and MathML elements; no event handlers, no script URLs, links stay inside."""
    for tag, attrs in tags_of(html):
        assert tag in TEMPLATE_ELEMENTS | ALLOWED_ELEMENTS, f"unexpected element <{tag}>"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert "javascript:" not in (value or "").lower(), f"script URL in {name} of <{tag}>"
            if name in ("href", "src", "action", "srcdoc", "data"):
                assert name == "href" and (value or "").startswith(("#", "./")), (
                    f"{name}={value!r} on <{tag}>"
                )
    assert html.count("<script") == 0
    assert html.count("<style>") == 1  # the inlined stylesheet, nothing a student wrote


CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(tmp_path: Path, page: Path, *args: str) -> str:
    """Run Chromium on a local page with a fresh profile; returns stdout (the DOM for --dump-dom)."""
    profile = tmp_path / f"profile-{page.stem[:20]}-{len(list(tmp_path.iterdir()))}"
    result = subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dump_dom(tmp_path: Path, page: Path) -> str:
    return chromium(tmp_path, page, "--dump-dom")


def injected(dom: str) -> list[str]:
    """Traces of a payload having run, found in the DOM after scripts would have run."""
    found = []
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    if title and "PWNED" in title.group(1):
        found.append("document.title was changed")
    for tag, attrs in tags_of(dom):
        if ("id", "pwned") in attrs:
            found.append("an element with id 'pwned' was added")
        if tag in ("script", "img", "iframe", "object", "embed", "form", "input", "base", "textarea"):
            found.append(f"a <{tag}> element exists")
        found += [f"<{tag} {name}=...> handler exists" for name, _ in attrs if name.startswith("on")]
    return found
