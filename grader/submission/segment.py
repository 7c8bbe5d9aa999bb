"""Split a free-form Markdown submission into one answer per expected sub-question id.

Students number their answers in many ways (``## 1.2``, ``**Q1.2:**``, ``1.2 <question> Answer:``,
``Question 2`` then ``(a)``), and PDF conversion adds bullets, quotes and footnotes. A line is a
marker only when, after a tolerated prefix, it starts with a label whose numbers and letters
match an expected id (or a question number that has expected sub-questions); anything else is
ordinary text. Every regular expression runs on a bounded line head, so the pass is linear.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.submission.formulas import find_formulas, math_spans
from grader.submission.models import Answer, Submission

Tokens = tuple[str, ...]

_HEAD = 400  # markers are near the start of a line; only this much of a line is parsed for one
_PROMPT_LINE = 60  # a marker line longer than this may hold the question's own text
_KEYWORDS = frozenset({"question", "problem", "exercise", "exercice", "part", "task", "prob", "ex", "q"})
_SECTION_KEYWORDS = frozenset({"question", "problem", "exercise", "exercice", "q"})

_PREFIX_PART = re.compile(
    r"[ \t\u00a0]+|>|(?P<hash>#{1,6})(?!#)|(?:[-+\u2022\u00b7\u2013\u2014]|\*)(?=[ \t])"
)
_MARKER = re.compile(
    r"""
    (?P<emph>\*{1,3}|_{1,3})?[ \t]*
    (?:(?P<kw>question|problem|exercise|exercice|part|task|prob|ex|q)\.?[ \t]*
       (?:\*{1,3}|_{1,3})?[ \t]*(?:(?:no|nr|num)\.?[ \t]*)?)?
    (?:
        (?P<num>[0-9]{1,3}(?:\.[0-9]{1,3})*)(?![0-9])
        (?:
            \.?(?P<l1>[a-z])(?![a-z0-9])
          | [ \t]?\((?P<l2>[a-z]|[ivx]{1,4})\)
          | [ \t](?P<l3>[a-z])\)
        )?
      | \((?P<l4>[a-z]|[ivx]{1,4})\)
      | (?P<l5>[a-z]|[ivx]{1,4})\)
    )
    (?P<after>(?:[ \t]*(?:\*{1,3}|_{1,3}|[.:)]|[-\u2013\u2014](?=[ \t]|$)))*)
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_TOKEN = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE | re.ASCII)
_ANSWER_WORD = re.compile(r"\b(answers?|solutions?|ans|sol)\b", re.IGNORECASE)
_ANSWER_TAIL = re.compile(
    r"(?:\*{1,3}|_{1,3})?[ \t]*(?P<punct>[:.]|[-\u2013\u2014](?=[ \t]))?[ \t]*(?:\*{1,3}|_{1,3})?[ \t]*"
)
_LINE_START_JUNK = re.compile(r"[\s>#*_\-+\u2022\u00b7\u2013\u2014]*")
_BLANK = re.compile(r"\s*")
_FENCE = re.compile(r"[ \t]{0,3}(```|~~~)")
_FOOTNOTE_LINE = re.compile(r"\s*<sup>[^<]{0,12}</sup>")
_RULE_LINE = re.compile(r"\s*(?:[-*_]\s*){3,}")
# How questions start (imperatives, question words). "Let"/"Consider" are left out: answers open with them too.
_QUESTION_START = re.compile(
    r"(show|prove|derive|find|compute|calculate|compare|express|explain|what|how|why|which|give|state|"
    r"describe|determine|discuss|identify|verify|justify)\b",
    re.IGNORECASE,
)
_MATHY_NEXT = frozenset("=+/^<>|&")
_ANSWER_QUALIFIERS = frozenset(
    {"final", "my", "the", "our", "your", "this", "that", "short", "full", "complete", "correct"}
)


@dataclass(frozen=True)
class _Marker:
    """A label found at the start of a line, before deciding what it means."""

    numbers: Tokens
    letters: Tokens
    keyword: str | None
    strong: bool  # heading, emphasis or keyword: never ordinary text by accident
    heading: bool
    label: str  # as written, for warnings
    rest_start: int  # column where the text after the label starts
    title_end: int | None  # emphasis that runs past the label (``**1.2 Dropout**``) ends here
    title_resume: int | None
    markerish: bool  # a bare label that reads like a marker ("1.2 Show", "1.2.") not like "1.2 times"
    question_text: bool  # followed by a long question ("5.6 Find the eigenvalues of ...")


@dataclass(frozen=True)
class _Event:
    kind: str  # "answer" | "duplicate" | "context" | "unknown"
    line: int  # 0-based
    marker: _Marker
    question_id: str | None = None


def _tokens(label: str) -> Tokens:
    """Numbers and letters of a label, numbers without leading zeros, letters lower-case."""
    out = [str(int(t)) if t.isdigit() else t.lower() for t in _TOKEN.findall(label)]
    while len(out) > 1 and out[0] in _KEYWORDS and not out[0].isdigit():
        out.pop(0)
    return tuple(out)


def _parse_marker(line: str) -> _Marker | None:
    """Read a candidate label at the start of ``line`` (after bullets, quotes, headings)."""
    head = line[:_HEAD]
    pos = 0
    heading = False
    for _ in range(16):
        part = _PREFIX_PART.match(head, pos)
        if part is None or part.end() == pos:
            break
        heading = heading or part.group("hash") is not None
        pos = part.end()
    if head.startswith("<", pos):
        return None  # HTML such as <sup>1.</sup> footnotes
    m = _MARKER.match(head, pos)
    if m is None:
        return None
    end = m.end()
    after = m.group("after")
    nxt = head[end : end + 1]
    if not after.strip() and nxt and not nxt.isspace():
        return None  # "1.2x", "1.2,": the label runs on into something else
    keyword = m.group("kw").lower() if m.group("kw") else None
    rest_start = end
    while rest_start < len(line) and line[rest_start] in " \t":
        rest_start += 1
    following = line[rest_start : rest_start + 1]
    emph = m.group("emph")
    title_end = title_resume = None
    if emph and not any(ch in after for ch in "*_"):
        close = head.find(emph, end)
        if close != -1:
            title_end, title_resume = close, close + len(emph)
    numbers = tuple(str(int(n)) for n in m.group("num").split(".")) if m.group("num") else ()
    letter = next((m.group(g) for g in ("l1", "l2", "l3", "l4", "l5") if m.group(g)), None)
    strong = heading or bool(emph) or keyword is not None
    markerish = (
        not following or any(ch in after for ch in ".:)") or following.isupper() or following in "$\\(*_[\"'`"
    )
    if not strong and following and following in _MATHY_NEXT:
        return None  # "1.2 + 3 = 4.2": arithmetic, not a marker
    return _Marker(
        numbers=numbers,
        letters=(letter.lower(),) if letter else (),
        keyword=keyword,
        strong=strong,
        heading=heading,
        label=head[pos:end].strip(),
        rest_start=rest_start,
        title_end=title_end,
        title_resume=title_resume,
        markerish=markerish,
        question_text=len(line) - rest_start > _PROMPT_LINE
        and _looks_like_question(line[rest_start : rest_start + _HEAD]),
    )


@dataclass(frozen=True)
class _Index:
    by_tokens: dict[Tokens, str]
    prefixes: frozenset[Tokens]

    @classmethod
    def build(cls, expected_ids: Sequence[str], aliases: Mapping[str, Sequence[str]] | None) -> _Index:
        by_tokens: dict[Tokens, str] = {}
        for qid in expected_ids:
            by_tokens.setdefault(_tokens(qid), qid)
        for qid, labels in (aliases or {}).items():
            if qid not in expected_ids:
                continue
            for label in labels:
                by_tokens.setdefault(_tokens(str(label)), qid)
        by_tokens.pop((), None)
        prefixes = {
            toks[:k] for toks in by_tokens for k in range(1, len(toks)) if all(t.isdigit() for t in toks[:k])
        }
        return cls(by_tokens=by_tokens, prefixes=frozenset(prefixes))


def _context_of(tokens: Tokens) -> Tokens:
    """The question a sub-question belongs to, for lettered parts that follow: 2.3a -> 2.3."""
    end = len(tokens)
    while end > 1 and not tokens[end - 1].isdigit():
        end -= 1
    return tokens[:end]


def _skipped_lines(text: str, lines: list[str]) -> set[int]:
    """0-based lines inside display math or fenced code: never markers, never 'Answer:'."""
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def line_of(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    skipped: set[int] = set()
    for span in math_spans(text):
        if span.display:
            first, last = line_of(span.start), line_of(max(span.start, span.end - 1))
            skipped.update(range(first + 1, last + 1))
    fences = [k for k, line in enumerate(lines) if _FENCE.match(line)]
    for opening, closing in zip(fences[::2], fences[1::2], strict=False):
        skipped.update(range(opening, closing + 1))
    return skipped


def _find_answer_marker(
    lines: list[str], first: int, last: int, start_col: int, skipped: set[int]
) -> tuple[int, int, int] | None:
    """First 'Answer:'-like marker in lines[first:last] -> (line, marker start col, answer start col)."""
    for k in range(first, last):
        if k in skipped and k != first:
            continue
        line = lines[k]
        begin = start_col if k == first else 0
        prefix = (_LINE_START_JUNK if begin == 0 else _BLANK).match(line, begin)
        prefix_end = prefix.end() if prefix is not None else begin
        for match in _ANSWER_WORD.finditer(line, begin):
            hit = _answer_marker_at(line, match, begin, prefix_end)
            if hit is not None:
                return k, hit[0], hit[1]
    return None


def _answer_marker_at(line: str, match: re.Match[str], begin: int, prefix_end: int) -> tuple[int, int] | None:
    """Is this 'answer' word a marker? Returns (marker start col, answer start col).

    Looks only at a short window before the word, so many 'answer' words on a long line stay linear.
    """
    word = match.group(1)
    tail = _ANSWER_TAIL.match(line, match.end())
    if tail is None:  # cannot happen: the pattern matches the empty string
        return None
    punct = tail.group("punct")
    start = match.start()
    while start > begin and line[start - 1] in "*_":
        start -= 1
    emphasised = start < match.start() or any(ch in line[match.end() : tail.end()] for ch in "*_")
    if prefix_end >= start:  # only bullets, quotes or spaces before the word: the line starts with it
        if punct or emphasised or not line[tail.end() : tail.end() + _HEAD].strip():
            return start, tail.end()
        return None
    if punct != ":":
        return None
    before = line[max(begin, start - 40) : start].rstrip()
    words = before.split()
    if words and words[-1].strip("*_").lower() in _ANSWER_QUALIFIERS:
        return None  # "Final answer: x" closes a derivation; it does not start the answer
    after_sentence = before.endswith((".", "?", "!", ":", ")", "$", ">", "*"))
    capital = word[0].isupper() and len(word) > 3
    if capital or emphasised or after_sentence:
        return start, tail.end()
    return None


def _has_content(text: str) -> bool:
    """An answer counts when something besides 'Answer:' words and converted footnotes is left."""
    kept = [line for line in text.split("\n") if not _FOOTNOTE_LINE.match(line)]
    rest = _ANSWER_WORD.sub(" ", "\n".join(kept))
    return any(ch.isalnum() for ch in rest)


def _trim(pieces: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop blank lines and horizontal rules at both ends of an answer."""

    def empty(piece: tuple[int, str]) -> bool:
        return not piece[1].strip() or _RULE_LINE.fullmatch(piece[1]) is not None

    lo, hi = 0, len(pieces)
    while lo < hi and empty(pieces[lo]):
        lo += 1
    while hi > lo and empty(pieces[hi - 1]):
        hi -= 1
    return pieces[lo:hi]


def _looks_like_question(rest: str) -> bool:
    stripped = rest.strip()
    return "?" in stripped or _QUESTION_START.match(stripped) is not None


def segment(
    text: str,
    expected_ids: Sequence[str],
    *,
    path: str = "<text>",
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Submission:
    """One Answer per expected id (missing ones marked), question text and preamble kept apart."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = list(dict.fromkeys(str(q) for q in expected_ids))
    index = _Index.build(expected, aliases)
    lines = text.split("\n")
    skipped = _skipped_lines(text, lines)
    warnings: list[str] = []

    events: list[_Event] = []
    seen: dict[str, int] = {}
    context: Tokens = ()
    for k, line in enumerate(lines):
        if k in skipped:
            continue
        marker = _parse_marker(line)
        if marker is None:
            continue
        event = _classify(marker, k, index, context, seen)
        if event is None:
            continue
        if event.kind == "answer" and event.question_id is not None:
            seen[event.question_id] = k
            context = _context_of(_tokens(event.question_id))
        elif event.kind == "duplicate" and event.question_id is not None:
            warnings.append(
                f"question {event.question_id} appears twice (lines {seen[event.question_id] + 1} and {k + 1}); using the first"
            )
        elif event.kind in ("context", "unknown"):
            context = marker.numbers
            if event.kind == "unknown":
                warnings.append(
                    f"line {k + 1}: {marker.label!r} is not one of the expected questions; its text was not graded"
                )
        events.append(event)

    bounds = [
        (event, event.line, events[i + 1].line if i + 1 < len(events) else len(lines))
        for i, event in enumerate(events)
    ]
    hits = {
        event.line: _find_answer_marker(lines, start, stop, event.marker.rest_start, skipped)
        for event, start, stop in bounds
        if event.kind == "answer"
    }
    answer_events = [e for e in events if e.kind == "answer"]
    uses_answer_markers = bool(answer_events) and 3 * sum(1 for e in answer_events if hits[e.line]) >= len(
        answer_events
    )

    unassigned: list[str] = []
    if events:
        unassigned.extend(lines[: events[0].line])
    else:
        unassigned.extend(lines)
    answers: dict[str, Answer] = {}
    for event, start, stop in bounds:
        if event.kind != "answer" or event.question_id is None:
            unassigned.extend(lines[start:stop])
            continue
        answers[event.question_id] = _build_answer(
            event, lines, start, stop, hits[event.line], uses_answer_markers
        )

    if not events and text.strip():
        warnings.append(
            "no question markers were found; start each answer on its own line with its number, e.g. '1.2' or '## 1.2'"
        )
    for qid in expected:
        if qid not in answers:
            answers[qid] = Answer(
                question_id=qid,
                heading_line=None,
                start_line=0,
                end_line=0,
                text="",
                prompt_text="",
                status="missing",
            )
            if events:
                warnings.append(
                    f"question {qid} was not found; start its answer on its own line with '{qid}'"
                )
    return Submission(
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        answers={qid: answers[qid] for qid in expected},
        unassigned_text="\n".join(unassigned).strip("\n"),
        warnings=tuple(warnings),
    )


def _classify(
    marker: _Marker, k: int, index: _Index, context: Tokens, seen: Mapping[str, int]
) -> _Event | None:
    """Decide what a candidate label means here, or None when it is ordinary text."""
    if marker.numbers:
        tokens = marker.numbers + marker.letters
        qid = index.by_tokens.get(tokens)
        if qid is not None:
            if qid in seen:
                if marker.strong or marker.markerish:
                    return _Event("duplicate", k, marker, qid)
                return None  # "1.2 times larger" inside a later answer
            return _Event("answer", k, marker, qid)
        if marker.letters:
            return None
        if marker.numbers in index.prefixes and (marker.strong or len(marker.numbers) >= 2):
            return _Event("context", k, marker)
        if marker.heading or marker.keyword in _SECTION_KEYWORDS:
            return _Event("unknown", k, marker)
        if len(marker.numbers) >= 2 and marker.numbers[:1] in index.prefixes and marker.question_text:
            return _Event("unknown", k, marker)  # a sub-question the rubric does not list
        return None
    if not context or marker.keyword not in (None, "part"):
        return None
    qid = index.by_tokens.get(context + marker.letters)
    if qid is None:
        return None
    if qid in seen:
        return _Event("duplicate", k, marker, qid) if marker.strong else None
    return _Event("answer", k, marker, qid)


def _build_answer(
    event: _Event,
    lines: list[str],
    start: int,
    stop: int,
    hit: tuple[int, int, int] | None,
    uses_answer_markers: bool,
) -> Answer:
    """Split one sub-question's lines into its prompt and its answer."""
    marker = event.marker
    first = lines[start]
    prompt: list[tuple[int, str]]
    body: list[tuple[int, str]]
    if hit is not None:
        line, marker_col, answer_col = hit
        if line == start:
            prompt = [(start, first[marker.rest_start : marker_col])]
        else:
            prompt = [(start, first[marker.rest_start :])]
            prompt += [(k, lines[k]) for k in range(start + 1, line)]
            prompt.append((line, lines[line][:marker_col]))
        body = [(line, lines[line][answer_col:])] + [(k, lines[k]) for k in range(line + 1, stop)]
        empty_at = line
    else:
        following = [(k, lines[k]) for k in range(start + 1, stop)]
        empty_at = start
        if marker.title_end is not None and marker.title_resume is not None:
            prompt = [(start, first[marker.rest_start : marker.title_end])]
            body = [(start, first[marker.title_resume :])] + following
        else:
            rest = first[marker.rest_start :]
            long_prompt = len(rest.strip()) > _PROMPT_LINE
            # A heading's text is a title. A long marker line is the question's text when the
            # document writes 'Answer:' elsewhere, or when it reads like a question.
            if marker.heading or (long_prompt and (uses_answer_markers or _looks_like_question(rest))):
                prompt, body = [(start, rest)], following
            else:
                prompt, body = [], [(start, rest)] + following
    prompt_text = "\n".join(piece for _, piece in _trim(prompt)).strip()
    kept = _trim(body)
    answer_text = "\n".join(piece for _, piece in kept)
    if not kept or not _has_content(answer_text):
        return Answer(
            question_id=event.question_id or "",
            heading_line=start + 1,
            start_line=empty_at + 1,
            end_line=empty_at + 1,
            text="",
            prompt_text=prompt_text,
            status="missing",
        )
    first_line = kept[0][0] + 1
    return Answer(
        question_id=event.question_id or "",
        heading_line=start + 1,
        start_line=first_line,
        end_line=kept[-1][0] + 1,
        text=answer_text,
        prompt_text=prompt_text,
        formulas=find_formulas(answer_text, first_line),
        status="answered",
    )
