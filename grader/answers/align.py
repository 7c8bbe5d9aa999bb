"""Align a document's blocks to the rubric's questions: one answer per question, with how it
was found and how sure that is.

Labels come first. Students number their answers in many ways (``## 1.2``, ``**Q1.2:**``,
``Q1.2)``, ``1.2 <question> Answer:``, ``Problem 1`` then a ``2.`` list item, ``Question 2`` then
``(a)``, ``Part 2.3 (b)``, spaced ``5 .1`` or ``( c )``, several sub-parts on one line), and PDF
conversion adds bullets, quotes and footnotes. A line is a marker only when, after a tolerated
prefix, it starts with a label whose numbers and letters match an expected id (or a question
number that has expected sub-questions); anything else is ordinary text. Lines inside display
math, code and a notebook's code cells are never markers. Every regular expression runs on a
bounded line head, so the pass is linear.

What labels do not place is aligned by content and order (``answers.content``): an equation for
a part's target, the phrases the rubric looks for, the words of the prompt, in question order.
A question that cannot be placed in a file that has unplaced text is ``unlocated`` (a person
looks), never silently missing; blank answers and placeholders ("TODO", "(skipped)") are missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from grader.answers.content import place_by_content
from grader.answers.models import Answer, MappingHow, Submission
from grader.answers.models import Mapping as AnswerMapping
from grader.answers.questions import QuestionInfo, bare_questions
from grader.document.formulas import find_formulas, math_spans
from grader.document.markdown import markdown_document
from grader.document.models import Document

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
        (?P<num>[0-9]{1,3}(?:[ \t]?\.[0-9]{1,3})*)(?![0-9])
        (?:
            \.?(?P<l1>[a-z])(?![a-z0-9])
          | [ \t]?\([ \t]?(?P<l2>[a-z]|[ivx]{1,4})[ \t]?\)
          | [ \t](?P<l3>[a-z])\)
        )?
      | \([ \t]?(?P<l4>[a-z]|[ivx]{1,4})[ \t]?\)
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
    how: MappingHow = "label"
    col: int = 0  # where the label starts (several sub-parts on one line)


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
    numbers = tuple(str(int(n)) for n in m.group("num").replace(" ", "").replace("\t", "").split(".")) if m.group("num") else ()
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


_PLACEHOLDER = re.compile(
    r"(?:todo|tbd|tba|to ?do|skip(?:ped)?|n/?a|no answer|not answered|not attempted|left blank|blank|"
    r"(?:i )?did ?n[o']?t (?:answer|attempt|do|finish|get to|have time for)(?: (?:this|it|this one|this question|that one))?|"
    r"(?:i )?ran out of time|no time|no idea|i (?:do ?n[o']?t|dont) know|idk|unknown|not sure|"
    r"(?:answer|solution) (?:here|goes here|missing)|your answer here|\.{3}|…|\?+|-+|–|—)",
    re.IGNORECASE,
)


def _has_content(text: str) -> bool:
    """An answer counts when something besides 'Answer:' words, converted footnotes and a
    placeholder ("TODO", "(skipped)", "I don't know", "n/a") is left."""
    kept = [line for line in text.split("\n") if not _FOOTNOTE_LINE.match(line)]
    rest = _ANSWER_WORD.sub(" ", "\n".join(kept))
    if not any(ch.isalnum() for ch in rest):
        return False
    bare = " ".join(rest.replace("*", " ").replace("_", " ").replace("`", " ").split()).strip(" .:;,!()[]{}<>\"'")
    return len(bare) > 60 or _PLACEHOLDER.fullmatch(bare) is None


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


_INLINE_LETTER = re.compile(r"(?<![\w(])\([ \t]?(?P<l>[a-z])[ \t]?\)(?=[ \t])|(?<![\w(])(?P<m>[a-z])\)(?=[ \t])")


def segment(
    text: str,
    expected_ids: Sequence[str],
    *,
    path: str = "<text>",
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Submission:
    """Markdown text already in memory, aligned to questions known by id (and labels) only."""
    return align(markdown_document(text, path=path), bare_questions(list(expected_ids), dict(aliases or {})))


def _block_skips(document: Document) -> set[int]:
    """0-based lines that hold no labels: inside display math, code, a notebook's code and outputs."""
    skipped: set[int] = set()
    for block in document.blocks:
        if not block.graded or block.kind == "code":
            skipped.update(range(block.line - 1, block.end_line))
        elif block.kind == "math":
            skipped.update(range(block.line, block.end_line))
    return skipped


def align(document: Document, questions: Sequence[QuestionInfo]) -> Submission:
    """One Answer per question (missing and unlocated ones marked), question text and preamble kept apart."""
    text = document.text
    expected = list(dict.fromkeys(q.id for q in questions))
    index = _Index.build(expected, {q.id: list(q.aliases) for q in questions})
    lines = text.split("\n")
    skipped = _skipped_lines(text, lines) | _block_skips(document)
    list_items = {b.line - 1 for b in document.blocks if b.kind == "list_item" and b.level <= 1}
    warnings: list[str] = []

    events: list[_Event] = []
    seen: dict[str, int] = {}
    context: Tokens = ()
    section: Tokens = ()
    for k, line in enumerate(lines):
        if k in skipped:
            continue
        marker = _parse_marker(line)
        event = _classify(marker, k, index, context, section, seen, k in list_items) if marker is not None else None
        if marker is not None and event is not None:
            context, section = _record(event, marker, k, seen, context, section, warnings)
            events.append(event)
        for inline in _inline_labels(line, event, index, context, seen, k):
            context, section = _record(inline, inline.marker, k, seen, context, section, warnings)
            events.append(inline)

    bounds = [
        (event, events[i + 1] if i + 1 < len(events) else None)
        for i, event in enumerate(events)
    ]
    hits = {
        (event.line, event.col): _find_answer_marker(*_span_lines(lines, event, following), event.marker.rest_start, skipped)
        for event, following in bounds
        if event.kind == "answer"
    }
    answer_events = [e for e in events if e.kind == "answer"]
    uses_answer_markers = bool(answer_events) and 3 * sum(1 for e in answer_events if hits[(e.line, e.col)]) >= len(
        answer_events
    )

    unassigned: list[str] = list(lines[: events[0].line] if events else lines)
    free: list[tuple[int, int]] = [(0, events[0].line if events else len(lines))]
    answers: dict[str, Answer] = {}
    for event, following in bounds:
        stop = following.line if following is not None else len(lines)
        if event.kind != "answer" or event.question_id is None:
            unassigned.extend(lines[event.line : stop])
            free.append((event.line + 1, stop))
            continue
        local, _, local_stop = _span_lines(lines, event, following)
        answers[event.question_id] = _build_answer(
            event, local, event.line, local_stop, hits[(event.line, event.col)], uses_answer_markers
        )

    unplaced = [q for q in questions if q.id not in answers]
    if unplaced:
        placed, leftover = place_by_content(document, unplaced, [(a, b) for a, b in free if b > a], located=bool(answers))
        for qid, answer in placed.items():
            answers[qid] = answer
            warnings.append(
                f"question {qid} has no label; it was found {answer.mapping.description if answer.mapping else 'by its content'}"
            )
    else:
        leftover = []

    if not events and text.strip():
        warnings.append(
            "no question markers were found; start each answer on its own line with its number, e.g. '1.2' or '## 1.2'"
        )
    labels = {e.line + 1 for e in events}
    has_text = any(
        b.graded and b.kind != "heading" and _has_content(b.text) and not (b.line in labels and b.line == b.end_line)
        for b in document.blocks
    )
    nothing_found = not any(a.status == "answered" for a in answers.values())
    for qid in expected:
        if qid in answers:
            continue
        if has_text and (nothing_found or leftover):
            where = ", ".join(document.where(a, b) for a, b in leftover[:3]) if leftover else "the file"
            answers[qid] = _empty(qid, "unlocated")
            warnings.append(
                f"question {qid} could not be located ({where} holds text no question took); a person will look; "
                f"label it on its own line, e.g. '{qid}'"
            )
        else:
            answers[qid] = _empty(qid, "missing")
            if events:
                warnings.append(f"question {qid} was not found; start its answer on its own line with '{qid}'")
    return Submission(
        path=document.path,
        format=document.format,
        sha256=document.sha256,
        answers={qid: answers[qid] for qid in expected},
        unassigned_text="\n".join(unassigned).strip("\n"),
        warnings=tuple(document.warnings) + tuple(warnings),
        unassigned_lines=tuple(leftover),
    )


def _empty(qid: str, status: str) -> Answer:
    return Answer(
        question_id=qid,
        heading_line=None,
        start_line=0,
        end_line=0,
        text="",
        prompt_text="",
        status="unlocated" if status == "unlocated" else "missing",
        mapping=AnswerMapping(
            question_id=qid,
            how="none",
            confidence="low",
            description="no label, target equation or wording of this question was found",
        ),
    )


def _record(
    event: _Event, marker: _Marker, k: int, seen: dict[str, int], context: Tokens, section: Tokens, warnings: list[str]
) -> tuple[Tokens, Tokens]:
    """Update what labels that follow refer to; returns (context, section)."""
    if event.kind == "answer" and event.question_id is not None:
        seen[event.question_id] = k
        # Only a section heading ("Problem 1") makes later "2." items sub-questions; an answer's own
        # numbered steps must not be read as 1.2, 1.3.
        return _context_of(_tokens(event.question_id)), section if event.how in ("list_item", "sub_label") else ()
    if event.kind == "duplicate" and event.question_id is not None:
        warnings.append(
            f"question {event.question_id} appears twice (lines {seen[event.question_id] + 1} and {k + 1}); using the first"
        )
        return context, section
    if event.kind == "unknown":
        warnings.append(f"line {k + 1}: {marker.label!r} is not one of the expected questions; its text was not graded")
        return marker.numbers, ()
    if event.how == "list_item":
        return event.marker.numbers, section
    return marker.numbers, marker.numbers if len(marker.numbers) == 1 else ()


def _span_lines(lines: list[str], event: _Event, following: _Event | None) -> tuple[list[str], int, int]:
    """Lines an event's answer may use, and its (exclusive) stop: a label later on the same line cuts it."""
    if following is None:
        return lines, event.line, len(lines)
    if following.col > 0:
        local = lines[: following.line] + [lines[following.line][: following.col]]
        return local, event.line, following.line + 1
    return lines, event.line, following.line


def _inline_labels(
    line: str, event: _Event | None, index: _Index, context: Tokens, seen: Mapping[str, int], k: int
) -> list[_Event]:
    """``Q2.3: (a) … (b) … (c) …``: sub-part labels later on a line that opened with a label."""
    if event is None or event.kind not in ("answer", "context") or not context:
        return []
    start = event.marker.rest_start if event.kind == "context" or not event.marker.letters else event.marker.rest_start
    found: list[_Event] = []
    taken = set(seen)
    for m in _INLINE_LETTER.finditer(line, start, min(len(line), start + 20 * _HEAD)):
        letter = (m.group("l") or m.group("m")).lower()
        qid = index.by_tokens.get(_context_of(context) + (letter,))
        if qid is None or qid in taken:
            continue
        taken.add(qid)
        rest = m.end()
        while rest < len(line) and line[rest] in " \t:.-":
            rest += 1
        marker = _Marker(
            numbers=(), letters=(letter,), keyword=None, strong=True, heading=False, label=m.group(0).strip(),
            rest_start=rest, title_end=None, title_resume=None, markerish=True, question_text=False,
        )
        found.append(_Event("answer", k, marker, qid, how="sub_label", col=m.start()))
    return found


def _classify(
    marker: _Marker, k: int, index: _Index, context: Tokens, section: Tokens, seen: Mapping[str, int], list_item: bool
) -> _Event | None:
    """Decide what a candidate label means here, or None when it is ordinary text."""
    how: MappingHow = "heading" if marker.heading else "label"
    if marker.numbers:
        tokens = marker.numbers + marker.letters
        qid = index.by_tokens.get(tokens)
        if qid is not None:
            if qid in seen:
                if marker.strong or marker.markerish:
                    return _Event("duplicate", k, marker, qid)
                return None  # "1.2 times larger" inside a later answer
            return _Event("answer", k, marker, qid, how=how)
        # "Problem 1" then a "2." list item: 1.2
        nested = index.by_tokens.get(section + tokens) if section and len(marker.numbers) == 1 else None
        if nested is not None and (list_item or marker.strong) and nested not in seen:
            return _Event("answer", k, marker, nested, how="list_item")
        if section and len(marker.numbers) == 1 and (list_item or marker.strong) and section + tokens in index.prefixes:
            # "Problem 2" then "3." whose parts are (a), (b), (c): the context is 2.3
            return _Event("context", k, replace(marker, numbers=section + tokens), how="list_item")
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
    return _Event("answer", k, marker, qid, how="sub_label")


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
    qid = event.question_id or ""
    label = marker.label or qid
    mapping = AnswerMapping(
        question_id=qid,
        how=event.how,
        confidence="high",
        label=label,
        description=_described(event, label),
    )
    if not kept or not _has_content(answer_text):
        return Answer(
            question_id=qid,
            heading_line=start + 1,
            start_line=empty_at + 1,
            end_line=empty_at + 1,
            text="",
            prompt_text=prompt_text,
            status="missing",
            mapping=mapping,
        )
    first_line = kept[0][0] + 1
    return Answer(
        question_id=qid,
        heading_line=start + 1,
        start_line=first_line,
        end_line=kept[-1][0] + 1,
        text=answer_text,
        prompt_text=prompt_text,
        formulas=find_formulas(answer_text, first_line),
        status="answered",
        mapping=mapping,
    )


def _described(event: _Event, label: str) -> str:
    """``by the heading '## 1.2' on line 14``: how the answer was found, for people."""
    where = f"line {event.line + 1}"
    if event.how == "heading":
        return f"by the heading '{label}' on {where}"
    if event.how == "list_item":
        return f"by the list item '{label}' under its question's heading, on {where}"
    if event.how == "sub_label":
        return f"by the sub-part label '{label}' under its question, on {where}"
    return f"by the label '{label}' on {where}"
