"""Choices stated in prose or as an inequality: "which is bigger", "reverse or forward KL".

An option is recognised by meaning: its example statements are read into facts
(``grader.checking.statements``) and an answer sentence that says all the facts of one statement
chooses it, whatever the word order, phrasing or negation. An inequality between the part's
named terms (``amortized > instance``) is the student's formal statement, so relations win over
prose, and the last relation is the conclusion. Regular expressions remain an advanced option.
Conflicting or unrecognised prose is not guessed at: it goes to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grader.answers.extract import extract, latex_key
from grader.answers.models import Answer
from grader.answers.prose import prose_text, relations_in, split_paragraphs, split_sentences
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.result import PartResult
from grader.checking.statements import Fact, Reading, Terms, read, says, vocabulary_of
from grader.errors import Problem
from grader.rubric.parts import RELATION, ChoicePart

_LABEL = re.compile(r"^\s*\(?\s*([0-9]{1,2}|[a-z]|[ivx]{1,4})\s*[.):]")


def _bigger_smaller(relation: str) -> tuple[str, str]:
    """``a > b`` and ``b < a`` both mean (bigger=a, smaller=b); strictness does not matter here."""
    match = RELATION.match(relation)
    assert match is not None
    left, op, right = match.groups()
    return (left, right) if op in (">", ">=") else (right, left)


@dataclass(frozen=True)
class Statement:
    option: str
    text: str
    facts: frozenset[Fact]


@dataclass(frozen=True)
class PartReader:
    """What a choice part's statements, terms and ``about`` phrases mean, read once per part."""

    terms: Terms
    vocabulary: frozenset[str]
    contrast: tuple[str, str] | None
    statements: tuple[Statement, ...]
    about: tuple[frozenset[Fact], ...]
    labels: frozenset[str]

    def read(self, text: str) -> Reading:
        return read(text, self.terms, vocabulary=self.vocabulary, contrast=self.contrast)

    def hits(self, text: str) -> list[dict[str, Any]]:
        """Each (sentence, option) the text says, with the statement it says, in order."""
        found: list[dict[str, Any]] = []
        for index, sentence in enumerate(self.read(text).sentences):
            for option in dict.fromkeys(s.option for s in self.statements):
                statement = next((s for s in self.statements if s.option == option and says(sentence, s.facts)), None)
                if statement is not None:
                    found.append({"option": option, "statement": statement.text, "sentence": index + 1})
        return found

    def is_about(self, text: str) -> bool:
        label = _LABEL.match(text.lstrip("-*+ \t"))
        if label and label.group(1).lower() in self.labels:
            return True
        return any(says(sentence, wanted) for sentence in self.read(text).sentences for wanted in self.about)


_READERS: dict[str, PartReader] = {}


def part_reader(part: ChoicePart) -> PartReader:
    key = part.model_dump_json(include={"options", "terms", "about"})
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = _build_reader(part)
        if len(_READERS) > 256:
            _READERS.pop(next(iter(_READERS)))
    return reader


def _build_reader(part: ChoicePart) -> PartReader:
    phrases = {name: spelling for name, spelling in part.terms.items() if isinstance(spelling, list)}
    terms = Terms.build(phrases)
    texts = [s for option in part.options for s in option.statements] + part.about
    vocabulary = vocabulary_of(texts)
    contrast = (sorted(phrases)[0], sorted(phrases)[1]) if len(phrases) == 2 else None
    raw: list[tuple[str, str, frozenset[Fact]]] = []
    for option in part.options:
        for text in option.statements:
            sentences = read(text, terms, vocabulary=vocabulary, contrast=contrast).sentences
            raw.append((option.id, text, frozenset().union(*sentences) if sentences else frozenset()))
    # A fact every option states ("KL" in "reverse KL" and "forward KL", whoever it is about) tells
    # them apart no better than nothing.
    per_option = [frozenset(_shared_key(f) for oid, _, facts in raw if oid == option.id for f in facts) for option in part.options]
    common = frozenset.intersection(*per_option) if per_option and all(per_option) else frozenset()
    statements = tuple(Statement(oid, text, _claims(facts, common)) for oid, text, facts in raw)
    about: list[frozenset[Fact]] = []
    labels: set[str] = set()
    for phrase in part.about:
        label = re.fullmatch(r"\s*\(?\s*([0-9]{1,2}|[a-z]|[ivx]{1,4})\s*[.):]\s*", phrase)
        if label:
            labels.add(label.group(1).lower())
            continue
        sentences = read(phrase, terms, vocabulary=vocabulary).sentences
        if sentences:
            about.append(frozenset().union(*sentences))
    return PartReader(terms, vocabulary, contrast, statements, tuple(about), frozenset(labels))


def _claims(facts: frozenset[Fact], common: frozenset[Fact]) -> frozenset[Fact]:
    """What a statement must be found saying: its distinctive facts; a statement that only names
    something ("a t-test", "Newton's method") is found where that is named (not negated)."""
    distinctive = frozenset(f for f in facts if _shared_key(f) not in common)
    claims = frozenset(f for f in distinctive if f[0] != "mention")
    return claims or distinctive


def _shared_key(fact: Fact) -> Fact:
    return ("state", None, *fact[2:]) if fact[0] == "state" else fact


class ChoiceChecker(Checker[ChoicePart]):
    kind = "choice"
    part_model = ChoicePart

    def lint(self, part: ChoicePart, ctx: LintContext) -> list[Problem]:
        problems: list[Problem] = []

        def add(code: str, field: str, message: str, fix: str) -> None:
            problems.append(Problem(code=code, message=message, file=ctx.file, question=ctx.question_id, part=part.id, field=field, fix=fix))

        reader = part_reader(part)
        for option in part.options:
            where = f"options[{option.id}].statements"
            if not option.statements and not option.patterns and not option.relations:
                add(
                    "rubric.choice_unrecognisable",
                    f"options[{option.id}]",
                    f"option {option.id!r} has no statements, patterns or relations, so no answer can select it",
                    "add 'statements': short example sentences a student would write for this option",
                )
            for statement in (s for s in reader.statements if s.option == option.id):
                if not statement.facts:
                    add(
                        "rubric.choice_statement_empty",
                        where,
                        f"statement {statement.text!r} says nothing that tells option {option.id!r} from the others",
                        "state what distinguishes this option (its words are stop words, or shared by every option)",
                    )
                    continue
                others = sorted({hit["option"] for hit in reader.hits(statement.text)} - {option.id})
                if others:
                    add(
                        "rubric.choice_statement_ambiguous",
                        where,
                        f"statement {statement.text!r} of option {option.id!r} also reads as option(s) {', '.join(map(repr, others))}",
                        "reword the statements so each states only its own option, or set 'overrides'",
                    )
        for phrase in part.about:
            if not _LABEL.fullmatch(phrase.strip() + " ") and not reader.is_about(phrase):
                add("rubric.choice_about_empty", "about", f"'about' phrase {phrase!r} says nothing the reader recognises", "name the situation in words, or give a list label such as '1.'")
        return problems

    def check(self, part: ChoicePart, answer: Answer, ctx: CheckContext) -> PartResult:
        reader = part_reader(part)
        text = self._scoped(part, reader, answer.text)
        if not text.strip():
            return result(
                part,
                self.kind,
                verdict="undecided",
                method="choice",
                reasons=["the part of the answer this asks about was not found"],
                evidence={"about": part.about, "scope": part.scope},
            )
        extraction = extract(answer, None, part_id=part.id, mode="prose")
        by_relation = self._from_relations(part, text)
        by_statement = reader.hits(text)
        by_pattern = self._from_patterns(part, text)
        evidence: dict[str, object] = {"relations": by_relation, "statements": by_statement, "patterns": by_pattern}
        if by_relation:
            chosen, method = by_relation[-1]["option"], "choice-relation"
        else:
            found = self._found(part, by_statement + by_pattern)
            if len(found) != 1:
                reading = reader.read(text)
                if found:
                    reason = f"the answer states several options ({', '.join(found)})"
                elif reading.hedged:
                    reason = "the answer hedges (a question, 'might', 'perhaps', ...) and states none of the options"
                else:
                    reason = "none of the options was recognised in the answer"
                return result(part, self.kind, verdict="undecided", method="choice-meaning", extracted=extraction, evidence=evidence, reasons=[reason])
            chosen = found[0]
            method = "choice-meaning" if any(hit["option"] == chosen for hit in by_statement) else "choice-phrase"
        evidence["chosen"] = chosen
        label = next(o.label or o.id for o in part.options if o.id == chosen)
        if chosen == part.answer:
            return result(part, self.kind, verdict="right", method=method, extracted=extraction, evidence=evidence)
        mistake = next((m for m in part.mistakes if m.option == chosen), None)
        return result(
            part,
            self.kind,
            verdict="wrong",
            method=method,
            mistake=mistake,
            extracted=extraction,
            evidence=evidence,
            feedback=[f"Your answer reads as: {label}."],
        )

    def _scoped(self, part: ChoicePart, reader: PartReader, text: str) -> str:
        """The paragraphs (list items) that ``about``/``scope`` select; sentences when one holds several options."""
        if part.scope:
            scope = re.compile(part.scope, re.IGNORECASE)
            selects = scope.search
        elif part.about:
            selects = reader.is_about  # type: ignore[assignment]
        else:
            return text
        text = "\n\n".join(p for p in split_paragraphs(text) if selects(p))
        if len(self._found(part, reader.hits(text) + self._from_patterns(part, text))) > 1:
            # One paragraph may hold every scenario: narrow to the sentences that name this one.
            text = " ".join(s for s in split_sentences(text) if selects(s))
        return text

    def _found(self, part: ChoicePart, hits: list[dict[str, Any]]) -> list[str]:
        """Options the prose supports, after each option's overrides remove the ones it wins over."""
        found = {hit["option"] for hit in hits}
        beaten = {other for option in part.options if option.id in found for other in option.overrides}
        return sorted(found - beaten)

    def _from_relations(self, part: ChoicePart, text: str) -> list[dict[str, Any]]:
        """Each inequality between two named terms, in order, with the option it supports."""
        if not part.terms:
            return []
        wanted = {_bigger_smaller(relation): option.id for option in part.options for relation in option.relations}
        if not wanted:
            return []
        hits: list[dict[str, Any]] = []
        for left, op, right in relations_in(text):
            left_terms = _terms_in(part, latex_key(left))
            right_terms = _terms_in(part, latex_key(right))
            if len(left_terms) != 1 or len(right_terms) != 1 or left_terms == right_terms:
                continue
            pair = (left_terms[0], right_terms[0]) if op in (">", ">=") else (right_terms[0], left_terms[0])
            if pair in wanted:
                hits.append({"option": wanted[pair], "relation": f"{pair[0]} > {pair[1]}", "latex": f"{left} {op} {right}"})
        return hits

    def _from_patterns(self, part: ChoicePart, text: str) -> list[dict[str, Any]]:
        if not any(option.patterns for option in part.options):
            return []
        prose = prose_text(text)
        hits: list[dict[str, Any]] = []
        for option in part.options:
            for pattern in option.patterns:
                match = re.search(pattern, prose, re.IGNORECASE)
                if match:
                    hits.append({"option": option.id, "phrase": match.group(0)[:200], "at": match.start()})
        return sorted(hits, key=lambda hit: hit["at"])


def _terms_in(part: ChoicePart, key: str) -> list[str]:
    """The terms one side of an inequality names: a phrase's LaTeX inside it, or (advanced) a regex."""
    named = []
    for name, spelling in part.terms.items():
        if isinstance(spelling, str):
            if re.search(spelling, key):
                named.append(name)
        elif any(_latex_phrase(phrase) and latex_key(phrase) in key for phrase in spelling):
            named.append(name)
    return named


def _latex_phrase(phrase: str) -> bool:
    """Phrases with LaTeX markup or symbols name a term inside formulas; plain words only in prose."""
    return any(ch in phrase for ch in "\\_^{}") or not phrase.replace("-", " ").replace(" ", "").isalpha()
