"""Sealed choice parts: the options stay readable, which one is right does not.

The options' phrases, relations, terms and scope only recognise what a student chose, so they
stay as written and recognition is the open checker's own code. The correct option and each
mistake's option are stored as hashes of a scrypt key of the option id (as slow as a sealed
formula's key), and the feedback for an option (``feedback_correct``, a mistake's id and
explanation) is sealed under that key: it is readable once a student's answer has chosen it,
not by reading the file.

With two or three options this stops reading, not guessing: a checker answers any guess, and
trying every option costs a student a few KDF evaluations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import ValidationError

from grader._internal.secretbox import KdfParams, derive_key, nonce_for, open_box, seal_box
from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.choice import ChoiceChecker
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.rubric.parts import ChoicePart, Mistake
from grader.rubric.sealed import SealedChoiceMistake, SealedChoicePart

KIND = "sealed-choice"


def option_key(salt: str, option: str, kdf: KdfParams) -> bytes:
    return derive_key(f"option:{option}", salt, kdf)


def option_digest(key: bytes) -> str:
    return hashlib.sha256(b"option\x1f" + key).hexdigest()[:32]


def seal_choice(part: ChoicePart, salt: str, *, also: Sequence[str] = (), kdf: KdfParams | None = None) -> SealedChoicePart:
    """The sealed form of an open choice part (``also``: other option ids that are right too)."""
    kdf = kdf or KdfParams()
    keys = {option.id: option_key(salt, option.id, kdf) for option in part.options}
    recognised = []
    for index, mistake in enumerate(part.mistakes):
        if mistake.option is None or mistake.option not in keys:
            continue
        ref = f"m{index}"
        text = json.dumps({"id": mistake.id, "feedback": mistake.feedback}, ensure_ascii=False)
        recognised.append(
            SealedChoiceMistake(
                ref=ref,
                option=option_digest(keys[mistake.option]),
                points=mistake.points,
                box=seal_box(keys[mistake.option], text, nonce=nonce_for(salt, ref)),
            )
        )
    right = [part.answer, *also]
    correct_boxes = (
        [seal_box(keys[option], part.feedback_correct, nonce=nonce_for(salt, f"correct:{option}")) for option in right]
        if part.feedback_correct
        else []
    )
    return SealedChoicePart(
        kind=KIND,
        id=part.id,
        title=part.title,
        points=part.points,
        target=part.target,
        salt=salt,
        kdf=kdf,
        answer=option_digest(keys[part.answer]),
        also=[option_digest(keys[option]) for option in also],
        correct_boxes=correct_boxes,
        options=part.options,
        terms=part.terms,
        about=part.about,
        scope=part.scope,
        recognised=recognised,
    )


class SealedChoiceChecker(Checker[SealedChoicePart]):
    kind = KIND
    part_model = SealedChoicePart

    def lint(self, part: SealedChoicePart, ctx: LintContext) -> list[Problem]:
        try:
            recogniser = part.recogniser()
        except ValidationError as error:
            message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            return [
                Problem(
                    code="rubric.sealed_choice",
                    message=message,
                    file=ctx.file,
                    question=ctx.question_id,
                    part=part.id,
                    field="options",
                    fix="seal the rubric again with 'grader rubric seal'",
                )
            ]
        return ChoiceChecker().lint(recogniser, ctx)

    def check(self, part: SealedChoicePart, answer: Answer, ctx: CheckContext) -> PartResult:
        found = ChoiceChecker().check(part.recogniser(), answer, ctx)
        chosen = found.evidence.get("chosen")
        if not isinstance(chosen, str) or found.verdict == "undecided":
            return found.model_copy(update={"kind": KIND})
        key = option_key(part.salt, chosen, part.kdf)
        if option_digest(key) in (part.answer, *part.also):
            opened = (open_box(key, box) for box in part.correct_boxes)
            shown = part.model_copy(update={"feedback_correct": next((text for text in opened if text is not None), "")})
            return result(shown, KIND, verdict="right", method=found.method, extracted=found.extracted, evidence=found.evidence)
        label = next(o.label or o.id for o in part.options if o.id == chosen)
        sealed = next((m for m in part.recognised if m.option == option_digest(key)), None)
        mistake = _unsealed_mistake(sealed, key) if sealed is not None else None
        return result(
            part,
            KIND,
            verdict="wrong",
            method=found.method,
            mistake=mistake,
            extracted=found.extracted,
            evidence=found.evidence,
            feedback=[f"Your answer reads as: {label}."],
        )


def _unsealed_mistake(sealed: SealedChoiceMistake, key: bytes) -> Mistake:
    text = open_box(key, sealed.box) if sealed.box else None
    if text is not None:
        try:
            data = json.loads(text)
            return Mistake(id=str(data["id"]), feedback=str(data["feedback"]), points=sealed.points)
        except (ValueError, KeyError, TypeError):
            pass
    return Mistake(id=sealed.ref, feedback="This is a mistake the rubric knows; ask your instructor about it.", points=sealed.points)
