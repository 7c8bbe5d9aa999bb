"""Reading a short prose answer by meaning: what it claims, not which words it happens to use.

A sentence becomes a set of facts, and an option of a choice part is chosen when every fact of
one of its example statements is found in one sentence of the answer. Word order and paraphrase
do not matter (facts are unordered, words are stemmed, declared terms have several phrasings),
negation does ("never converges" is the fact *converge, negated*; "not unstable" is *stable*).

The facts are:

- ``state``: a content word, negated or not, with the adverbs before it ("not asymptotically
  stable") and the term the clause is about, if any;
- ``change``: a term gets bigger or smaller in some respect ("λ decreases", "amortized inference
  needs less memory", "is faster": the respect is the noun or adjective compared). Between the two
  terms a question compares, "A is faster" is the same fact as "B is slower";
- ``covary``: two terms change together in the same sentence ("λ decreases as p grows" is
  λ and p moving in opposite directions, however it is phrased);
- ``limit``: a term approaches a value while another does ("for p close to 1, λ is close to 0").

Hedged sentences ("it might be stable") and questions claim nothing. The lexicon here is
general English for comparisons, change and negation; what a course talks about comes from the
rubric (its terms and example statements). Stems come from the Snowball stemmer (no data files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")

Fact = tuple[object, ...]


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    stemmed: str = _STEMMER.stemWord(word.lower())
    return _STEM_SYNONYMS.get(stemmed, stemmed)


# British and American spellings Snowball keeps apart. Nouns stay apart from their adjectives on
# purpose: "nothing can be said about stability" does not claim "stable".
_STEM_SYNONYMS = {"optimis": "optim", "amortis": "amort", "amortiz": "amort"}

# -- lexicon -------------------------------------------------------------------------------------

_STOP = frozenset(
    """a an the this that these those it its it's they them their there here we us our you your i me my one ones
    is are was were be been being am do does did done doing have has had having get gets got getting become becomes
    became of to in on at by for from into onto with within about over under between through than then also too
    very much far quite rather just only even still both each every all any some such same own other another
    which who whom whose what where why how whether and or but so as if when while whereas since because thus
    hence therefore however although though yet instead case approach method way answer question part thing
    anything something everything let lets can will shall should must need needs needed require requires required use uses used using
    take takes taking show shows give gives given make makes made see seen mean means""".split()
)
# Words kept although they are usually filler: they carry the claim in "nothing can be said", "use the reverse KL".

_NEGATORS = frozenset({"not", "non", "no", "never", "cannot", "neither", "nor", "without", "none", "nothing", "nobody", "nowhere", "lack", "lacks", "lacking"})
_HEDGES = frozenset({"maybe", "perhaps", "possibly", "probably", "might", "may", "unsure", "unclear", "guess", "likely", "presumably"})
_CLAUSE_BREAKS = frozenset({"but", "so", "therefore", "thus", "hence", "because", "since", "whereas", "although", "though", "however", "which", "and", "or"})
_APPROACH = frozenset({"approach", "approaches", "approaching", "tend", "tends", "tending", "close", "near", "nearly", "around", "equal", "equals", "to", "goes", "go", "going", "converges", "converge", "converging"})

# Scalar words: (respect, direction). "size" is magnitude itself ("λ decreases", "is bigger").
_SCALAR: dict[str, tuple[str, int]] = {}
for _words, _respect, _sign in (
    ("increase increases increased increasing grow grows grew grown growing rise rises rising rose climb climbs "
     "larger bigger greater higher stronger more enlarge enlarges raise raises raised", "size", 1),
    ("decrease decreases decreased decreasing shrink shrinks shrank shrinking fall falls falling fell drop drops "
     "dropping dropped decline declines declining diminish diminishes diminishing reduce reduces reduced reducing "
     "smaller lower weaker less fewer lesser", "size", -1),
    ("faster quicker", "fast", 1),
    ("slower", "fast", -1),
    ("cheaper", "cheap", 1),
    ("costlier pricier", "cheap", -1),
    ("better", "good", 1),
    ("worse", "good", -1),
    ("tighter", "tight", 1),
    ("looser", "tight", -1),
    ("easier simpler", "easy", 1),
    ("harder", "easy", -1),
):
    for _word in _words.split():
        _SCALAR[_word] = (_respect, _sign)
# Adjectives that name a respect with a direction ("more expensive" is "less cheap").
_ANTONYMS: dict[str, tuple[str, int]] = {
    "fast": ("fast", 1), "quick": ("fast", 1), "slow": ("fast", -1),
    "cheap": ("cheap", 1), "expensive": ("cheap", -1), "costly": ("cheap", -1), "inexpensive": ("cheap", 1),
    "efficient": ("efficient", 1), "inefficient": ("efficient", -1),
    "good": ("good", 1), "bad": ("good", -1), "easy": ("easy", 1), "simple": ("easy", 1),
    "hard": ("easy", -1), "difficult": ("easy", -1), "complex": ("easy", -1), "complicated": ("easy", -1),
    "tight": ("tight", 1), "loose": ("tight", -1), "accurate": ("accurate", 1), "inaccurate": ("accurate", -1),
}
_MORE = frozenset({"more", "higher", "larger", "bigger", "greater"})
_LESS = frozenset({"less", "fewer", "lower", "smaller"})
# Levels a term can be at or tend to.
_LEVELS = {
    "zero": "0", "small": "0", "tiny": "0", "negligible": "0", "vanish": "0", "vanishes": "0", "vanishing": "0",
    "infinity": "inf", "infinite": "inf", "large": "inf", "big": "inf", "huge": "inf", "unbounded": "inf",
    "explodes": "inf", "explode": "inf", "∞": "inf",
}
_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "first": "1", "second": "2", "third": "3", "ii": "2", "iii": "3", "iv": "4"}
_INVERSE = frozenset({"inversely", "inverse", "anti", "reciprocal", "reciprocally"})
_PROPORTIONAL = frozenset({"proportional", "proportionally", "proportionate"})
_NEGATING_PREFIXES = ("non", "un", "in", "im", "ir", "il", "dis")
# Bases a prefix negates although no example statement uses them.
_NEGATABLE = frozenset(stem(w) for w in "stable bounded biased consistent significant correlated defined conclusive invertible singular identifiable observable controllable necessary sufficient symmetric dependent linear convex known equal able possible finite real correct true".split())

_GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi varphi chi psi omega"
).split()
_GREEK_LETTERS = dict(zip("αβγδεϵζηθϑικλμνξπρστυφϕχψω", "alpha beta gamma delta epsilon epsilon zeta eta theta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi phi chi psi omega".split(), strict=True))

# -- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # word, name, num, neg, stop (sentence end), comma, arrow, rel
    text: str
    stem: str = ""


_INLINE_MATH = re.compile(r"(?<![$\\])\$(?!\$)([^$]{1,200}?)\$(?!\$)|\\\((.{1,200}?)\\\)")
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{(equation|align|gather|multline)\*?\}.*?\\end\{\1\*?\}", re.DOTALL)
_WORD = re.compile(
    r"""(?P<sym>[^\W\d_](?:[_^](?:\{[^{}\s]{1,20}\}|[\w*]{1,12}))+)
      | (?P<num>\d+(?:[.,]\d+)?)
      | (?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?)
      | (?P<arrow>→|->|⟶|⇒|=>|↦|⟹)
      | (?P<inf>∞)
      | (?P<rel>≤|≥|<|>|=|≈|≠)
      | (?P<end>[.!?;:](?=\s|$)|\n\s*\n|\n\s*(?:[-*+]|\d+[.)])\s)
      | (?P<comma>,)""",
    re.VERBOSE,
)
_MATH_SPLIT = re.compile(r"\\to\b|\\rightarrow\b|\\longrightarrow\b|\\mapsto\b|\\approx\b|\\leq?\b|\\geq?\b|\\neq?\b|\\sim\b|[=<>]")


def math_key(latex: str) -> str:
    """A symbol's spelling for comparison: fonts, braces, spaces and case dropped, Greek by name."""
    text = latex
    for letter, name in _GREEK_LETTERS.items():
        text = text.replace(letter, f"\\{name}")
    text = re.sub(r"\\(?:mathrm|text|textrm|operatorname|mathbf|boldsymbol|bm|mathit|mathsf|textit|textbf)\s*", "", text)
    text = re.sub(r"\\(left|right|big|Big|bigl|bigr|,|;|!|quad)", "", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: m.group(1).lower() if m.group(1).lower() in _GREEK else m.group(0), text)
    text = text.replace("\\varepsilon", "epsilon").replace("\\ast", "*").replace("\\star", "*")
    return re.sub(r"[{}\s]", "", text).lower()


def base_key(key: str) -> str:
    """The letter a decorated symbol is built on: ``lambda^dropout`` and ``lambda_2`` are on ``lambda``."""
    return re.split(r"[_^(]", key, maxsplit=1)[0]


def _math_tokens(latex: str) -> list[Token]:
    tokens: list[Token] = []
    pieces = _MATH_SPLIT.split(latex)
    operators = _MATH_SPLIT.findall(latex)
    for index, piece in enumerate(pieces):
        piece = piece.strip()
        if piece:
            if re.fullmatch(r"\d+(?:[.,]\d+)?", piece):
                tokens.append(Token("num", _number(piece)))
            elif piece.replace(" ", "") in ("\\infty", "+\\infty", "∞"):
                tokens.append(Token("num", "inf"))
            else:
                tokens.append(Token("math", math_key(piece)))
        if index < len(operators):
            op = operators[index]
            tokens.append(Token("arrow" if op in ("\\to", "\\rightarrow", "\\longrightarrow", "\\mapsto", "\\approx") else "rel", op))
    return tokens


def _number(text: str) -> str:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return text
    return f"{value:g}"


def tokenize(text: str) -> list[Token]:
    """Words (stemmed), numbers, symbols (inline math and letters), negators and sentence ends."""
    text = _DISPLAY_MATH.sub(" . ", text)
    text = text.replace("**", " ").replace("__", " ").replace("`", " ")
    tokens: list[Token] = []
    position = 0
    for match in _INLINE_MATH.finditer(text):
        tokens += _plain_tokens(text[position : match.start()])
        tokens += _math_tokens(match.group(1) if match.group(1) is not None else match.group(2))
        position = match.end()
    tokens += _plain_tokens(text[position:])
    return tokens


def _plain_tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _WORD.finditer(text.replace("\\to ", " → ").replace("\\infty", " ∞ ")):
        kind = match.lastgroup
        raw = match.group(0)
        if kind == "sym":
            tokens.append(Token("math", math_key(raw)))
        elif kind == "num":
            tokens.append(Token("num", _number(raw)))
        elif kind == "inf":
            tokens.append(Token("num", "inf"))
        elif kind in ("arrow", "rel", "comma"):
            tokens.append(Token(kind or "", raw))
        elif kind == "end":
            tokens.append(Token("end", raw.strip() or "."))
        else:
            tokens.extend(_word_tokens(raw))
    return tokens


def _word_tokens(raw: str) -> list[Token]:
    word = raw.lower().replace("’", "'")
    if word.endswith("n't") or word in ("cannot", "can't", "won't"):
        return [Token("neg", word)]
    if word.endswith("'s"):
        word = word[:-2]
    if word in _NUMBERS:
        return [Token("num", _NUMBERS[word])]
    if word in _GREEK:
        return [Token("math", word)]
    if len(raw) == 1 and raw.isalpha() and raw.lower() not in ("a", "i"):
        return [Token("math", math_key(raw))]
    if raw in _GREEK_LETTERS:
        return [Token("math", _GREEK_LETTERS[raw])]
    if word in _NEGATORS:
        return [Token("neg", word)]
    return [Token("word", word, stem(word))]


# -- terms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """What the statements talk about: a name and the phrases (words or LaTeX) that mean it."""

    phrases: tuple[tuple[tuple[str, ...], str], ...]  # (phrase as stems/keys, name), longest first
    math: Mapping[str, str]  # full symbol key -> name
    bases: Mapping[str, str]  # base letter key -> name

    @staticmethod
    def build(terms: Mapping[str, Sequence[str]]) -> Terms:
        phrases: list[tuple[tuple[str, ...], str]] = []
        math: dict[str, str] = {}
        bases: dict[str, str] = {}
        for name, spellings in terms.items():
            for spelling in (name, *spellings):
                latex = any(ch in spelling for ch in "\\_^{}") and "$" not in spelling
                tokens = tokenize(f"${spelling}$" if latex else spelling.replace("-", " "))
                if len(tokens) == 1 and tokens[0].kind == "math":
                    math.setdefault(tokens[0].text, name)
                    bases.setdefault(base_key(tokens[0].text), name)
                keys = tuple(_token_key(t) for t in tokens if t.kind in ("word", "math", "num"))
                if keys:
                    phrases.append((keys, name))
        phrases.sort(key=lambda item: -len(item[0]))
        return Terms(tuple(phrases), math, bases)


def _token_key(token: Token) -> str:
    return token.stem if token.kind == "word" else f"{token.kind}:{token.text}"


def _resolve_terms(tokens: list[Token], terms: Terms) -> list[Token]:
    """Declared phrases become ``name`` tokens (longest first); other symbols name themselves."""
    out: list[Token] = []
    i = 0
    keys = [_token_key(t) for t in tokens]
    while i < len(tokens):
        for phrase, name in terms.phrases:
            if len(phrase) > 1 and tuple(keys[i : i + len(phrase)]) == phrase:
                out.append(Token("name", name))
                i += len(phrase)
                break
        else:
            token = tokens[i]
            if token.kind == "math":
                name = terms.math.get(token.text) or terms.bases.get(base_key(token.text)) or token.text
                out.append(Token("name", name))
            elif token.kind == "word" and (match := next((n for p, n in terms.phrases if p == (token.stem,)), None)):
                out.append(Token("name", match))
            else:
                out.append(token)
            i += 1
    return out


# -- facts ---------------------------------------------------------------------------------------


@dataclass
class _Clause:
    tokens: list[Token]
    subject: str | None = None


@dataclass
class Reading:
    """The facts of each sentence of a text, and the sentences that claim nothing (hedged, questions)."""

    sentences: list[frozenset[Fact]] = field(default_factory=list)
    hedged: int = 0


def read(text: str, terms: Terms, *, vocabulary: frozenset[str] = frozenset(), contrast: tuple[str, str] | None = None) -> Reading:
    """What each sentence of ``text`` claims (``vocabulary``: stems a prefix may negate)."""
    reading = Reading()
    subject: str | None = None
    names = {name for _, name in terms.phrases}
    only = next(iter(names)) if len(names) == 1 else None
    for sentence in _sentences(_resolve_terms(tokenize(text), terms)):
        if not sentence:
            continue
        if only is not None:
            sentence = _pronoun_is_the_term(sentence, only)
        if sentence[-1].text == "?" or any(t.kind == "word" and t.text in _HEDGES for t in sentence):
            reading.hedged += 1
            continue
        facts, subject = _sentence_facts(sentence, vocabulary, contrast, subject)
        if facts:
            reading.sentences.append(frozenset(facts))
    return reading


def _pronoun_is_the_term(sentence: list[Token], name: str) -> list[Token]:
    """With one declared term (what the question asks about), a leading "it" is that term."""
    for index, token in enumerate(sentence):
        if token.kind == "name":
            return sentence
        if token.kind == "word" and token.text == "it":
            return [*sentence[:index], Token("name", name), *sentence[index + 1 :]]
    return sentence


def _sentences(tokens: list[Token]) -> list[list[Token]]:
    sentences: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "end":
            sentences[-1].append(token)
            sentences.append([])
        else:
            sentences[-1].append(token)
    return sentences


def _clauses(sentence: list[Token]) -> list[list[Token]]:
    clauses: list[list[Token]] = [[]]
    for token in sentence:
        if token.kind in ("comma", "end") or (token.kind == "word" and token.text in _CLAUSE_BREAKS):
            if clauses[-1]:
                clauses.append([])
            continue
        clauses[-1].append(token)
    return [c for c in clauses if c]


def _sentence_facts(
    sentence: list[Token], vocabulary: frozenset[str], contrast: tuple[str, str] | None, subject: str | None
) -> tuple[set[Fact], str | None]:
    facts: set[Fact] = set()
    changes: list[tuple[str, int, bool, str]] = []  # (term, direction, negated, respect)
    levels: list[tuple[str, str]] = []
    inverse = proportional = False
    for tokens in _clauses(sentence):
        names = [t.text for t in tokens if t.kind == "name"]
        subject = names[0] if names else subject
        # A plain claim ("we reject H_0") is about the question; only when a part compares two terms
        # does it matter which one a claim is about.
        clause = _read_clause(tokens, subject if contrast else None, vocabulary)
        facts.update(clause.states)
        changes += clause.changes
        levels += clause.levels
        inverse |= clause.inverse
        proportional |= clause.proportional
    # Two terms that change in size in one sentence change together; the pair is the fact.
    paired: set[int] = set()
    sizes = [i for i, change in enumerate(changes) if change[3] == "size" and change[0]]
    for position, i in enumerate(sizes):
        if i in paired:
            continue
        partner = next((j for j in sizes[position + 1 :] if j not in paired and changes[j][0] != changes[i][0]), None)
        if partner is not None:
            (a, da, na, _), (b, db, nb, _) = changes[i], changes[partner]
            facts.add(("covary", frozenset((a, b)), da * db, na or nb))
            paired |= {i, partner}
    for i, (term, direction, negated, respect) in enumerate(changes):
        if i in paired:
            continue
        facts.add(("change", term, respect, direction, negated))
        if contrast and term in contrast:
            other = contrast[1] if term == contrast[0] else contrast[0]
            facts.add(("change", other, respect, -direction, negated))
    for term, value in levels:
        facts.add(("level", term, value))
    at = {term: value for term, value in levels if term}
    if len(at) >= 2:
        items = list(at.items())[:2]
        facts.add(("limit", frozenset(items)))
        (_, first), (_, second) = items
        if {first, second} <= {"0", "inf"}:
            facts.add(("covary", frozenset(t for t, _ in items), 1 if first == second else -1, False))
    for index, token in enumerate(sentence):
        if token.kind == "name":
            before = [t for t in sentence[max(0, index - 3) : index] if not (t.kind == "word" and t.text in _STOP)]
            facts.add(("mention", token.text, bool(before) and before[-1].kind == "neg"))
    distinct = list(dict.fromkeys(t.text for t in sentence if t.kind == "name"))
    if (inverse or proportional) and len(distinct) >= 2:
        facts.add(("covary", frozenset(distinct[:2]), -1 if inverse else 1, False))
    return facts, subject


@dataclass
class _ClauseFacts:
    states: list[Fact] = field(default_factory=list)
    changes: list[tuple[str, int, bool, str]] = field(default_factory=list)
    levels: list[tuple[str, str]] = field(default_factory=list)
    inverse: bool = False
    proportional: bool = False


def _read_clause(tokens: list[Token], subject: str | None, vocabulary: frozenset[str]) -> _ClauseFacts:
    out = _ClauseFacts()
    negate = False
    carry = False  # "it is not true that ...": the negation moves to the clause's last claim
    modifiers: list[str] = []
    n = len(tokens)
    linked = bool(tokens) and tokens[0].kind == "word" and tokens[0].text in _LINKS

    def owner(at: int) -> str | None:
        """The term a scalar word is about: "larger p" and "increasing p" (the name right after),
        "decreasing p increases λ" (a verb's object), else the last name before it."""
        word = tokens[at].text
        before = [t.text for t in tokens[:at] if t.kind == "name"]
        if at + 1 < n and tokens[at + 1].kind == "name":
            modifier = word.endswith("ing") or word not in _VERB_FORMS
            if modifier or (before and not linked):
                return tokens[at + 1].text
        if before:
            return before[-1]
        after = [t.text for t in tokens[at + 1 :] if t.kind == "name"]
        return after[0] if after else subject

    i = 0
    # Nouns right after the clause's first term are its noun phrase ("the amortized KL divergence is
    # bigger"): they name what is compared, they do not claim anything.
    noun_phrase = False
    seen_name = False
    last_head = -2
    while i < n:
        token = tokens[i]
        word = token.text
        if token.kind == "name" and not seen_name:
            seen_name = noun_phrase = True
            i += 1
            continue
        if noun_phrase and token.kind == "word" and word not in _STOP and _scalar(tokens, i) is None and word not in _LEVELS and word not in _APPROACH:
            i += 1
            continue
        noun_phrase = False
        if token.kind == "neg":
            negate = not negate
            i += 1
            continue
        if token.kind != "word" and token.kind not in ("arrow", "rel"):
            i += 1
            continue
        if (word in ("fail", "fails", "failed", "unable") and i + 1 < n and tokens[i + 1].text == "to") or (
            (word, tokens[i + 1].text if i + 1 < n else "") in (("instead", "of"), ("rather", "than"))
        ):
            negate = not negate
            i += 2
            continue
        if word in _INVERSE or word in _PROPORTIONAL:
            out.inverse |= word in _INVERSE
            out.proportional |= word in _PROPORTIONAL
            i += 1
            continue
        if token.kind in ("arrow", "rel") or word in _APPROACH:
            value, after = _value_after(tokens, i + 1)
            if value is not None:
                if not negate:
                    out.levels.append((owner(i) or "", value))
                negate = False
                i = after
                continue
            if token.kind != "word" or word in _STOP:
                i += 1
                continue
        if word in _LEVELS and not (i + 1 < n and tokens[i + 1].kind == "word" and tokens[i + 1].text not in _STOP):
            if not negate:
                out.levels.append((owner(i) or "", _LEVELS[word]))
            negate = False
            i += 1
            continue
        scalar = _scalar(tokens, i)
        if scalar is not None:
            respect, direction, after = scalar
            out.changes.append((owner(i) or "", direction, negate, respect))
            if after < n and tokens[after].kind == "word" and tokens[after].text in ("in", "with") and after + 1 < n and tokens[after + 1].kind == "name":
                out.changes.append((tokens[after + 1].text, 1, False, "size"))  # "λ decreases in p": p increasing
            negate = False
            modifiers = []
            i = after
            continue
        if word in _STOP:
            i += 1
            continue
        if word.endswith("ly") and len(word) > 4 and word not in _NOT_ADVERBS:
            if out.states and last_head == i - 1:  # "converges absolutely"
                kind, who, base, negated, mods = out.states[-1]
                out.states[-1] = (kind, who, base, negated, frozenset(mods) | {stem(word)})  # type: ignore[call-overload]
            else:
                modifiers.append(stem(word))
            i += 1
            continue
        base, prefixed = _unprefixed(word, vocabulary)
        if base in ("true", "case", "correct", "right") and negate:
            carry, negate = not carry, False
            i += 1
            continue
        if i + 1 < n and tokens[i + 1].kind == "num":  # "scenario 1", "case two"
            base = f"{base}#{tokens[i + 1].text}"
            i += 1
        elif word in _ORDINALS and i + 1 < n and tokens[i + 1].kind == "word":
            base = f"{tokens[i + 1].stem}#{_ORDINALS[word]}"
            i += 1
        out.states.append(("state", subject, base, negate ^ prefixed, frozenset(modifiers)))
        last_head = i
        # "does not converge faster" denies the comparison, not only the verb
        negate = negate and i + 1 < n and tokens[i + 1].kind == "word" and _scalar(tokens, i + 1) is not None
        modifiers = []
        i += 1
    if carry and out.states:
        kind, who, base, negated, mods = out.states[-1]
        out.states[-1] = (kind, who, base, not negated, mods)
    return out


_NOT_ADVERBS = frozenset({"only", "early", "family", "apply", "supply", "reply", "assembly", "anomaly"})
_LINKS = frozenset({"as", "when", "whenever", "if", "while", "for", "by"})
_ORDINALS = {"first": "1", "second": "2", "third": "3", "last": "last"}
_VERB_FORMS = frozenset(
    w for w in _SCALAR if w.endswith(("s", "ed", "ing")) and w not in ("less", "fewer", "lesser")
) | frozenset({"increase", "decrease", "grow", "shrink", "rise", "fall", "drop", "decline", "reduce", "raise", "diminish", "climb"})


def _scalar(tokens: list[Token], i: int) -> tuple[str, int, int] | None:
    """(respect, direction, index after) for "faster", "more memory", "less efficient", "increases"."""
    word = tokens[i].text
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if word in _MORE | _LESS and nxt is not None and nxt.kind == "word" and nxt.text not in _STOP and nxt.text not in _SCALAR:
        direction = 1 if word in _MORE else -1
        if nxt.text in _ANTONYMS:
            respect, sign = _ANTONYMS[nxt.text]
            return respect, direction * sign, i + 2
        return nxt.stem, direction, i + 2
    if word in _SCALAR:
        respect, sign = _SCALAR[word]
        return respect, sign, i + 1
    if word in _ANTONYMS:
        respect, sign = _ANTONYMS[word]
        return respect, sign, i + 1
    return None


def _value_after(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """The value after "close to", "→", "approaches": a number, zero, infinity, small or large."""
    while i < len(tokens) and tokens[i].kind == "word" and tokens[i].text in _APPROACH | {"very", "arbitrarily", "be", "is", "become", "becomes", "the"}:
        i += 1
    if i < len(tokens):
        token = tokens[i]
        if token.kind == "num":
            return ("0" if token.text == "0" else token.text), i + 1
        if token.kind == "word" and token.text in _LEVELS:
            return _LEVELS[token.text], i + 1
    return None, i


def _unprefixed(word: str, vocabulary: frozenset[str]) -> tuple[str, bool]:
    """``unstable`` is *stable, negated* when "stable" is a word the question uses (or a common one)."""
    whole = stem(word)
    for prefix in _NEGATING_PREFIXES:
        rest = word[len(prefix) :].lstrip("-")
        if word.startswith(prefix) and len(rest) > 3:
            base = stem(rest)
            if base in vocabulary or base in _NEGATABLE:
                return base, True
    return whole, False


# -- matching ------------------------------------------------------------------------------------


def vocabulary_of(statements: Iterable[str]) -> frozenset[str]:
    """The stems an option's statements use, so "unbiased" reads as "biased, negated" when "biased" is one."""
    return frozenset(t.stem for s in statements for t in tokenize(s) if t.kind == "word")


def fact_matches(wanted: Fact, found: Fact) -> bool:
    """Does a fact of the answer say what a fact of an example statement says?"""
    if wanted[0] != found[0]:
        return False
    if wanted[0] in ("change", "level"):  # a change or level said of nothing named fits whatever it is said of
        return wanted[2:] == found[2:] and wanted[1] in ("", found[1])
    if wanted[0] != "state":
        return wanted == found
    _, subject, base, negated, modifiers = wanted
    _, their_subject, their_base, their_negated, their_modifiers = found
    if (base, negated) != (their_base, their_negated):
        return False
    if subject is not None and subject != their_subject:
        return False
    mine, theirs = set(modifiers), set(their_modifiers)  # type: ignore[call-overload]
    if not mine <= theirs:
        return False
    if negated:  # "not asymptotically stable" does not say "not stable": only emphasis may be added
        return theirs - mine <= _EMPHATIC
    return not (theirs - mine) & _QUALIFYING


# "marginally stable" is not "stable": an adverb that weakens the claim makes it a different one.
_QUALIFYING = frozenset(stem(w) for w in "marginally neutrally weakly almost nearly partially conditionally barely hardly semi necessarily".split())
_EMPHATIC = frozenset(stem(w) for w in "locally really actually truly certainly definitely clearly obviously".split())


def says(sentence: frozenset[Fact], statement: frozenset[Fact]) -> bool:
    """Every fact of the statement is in the sentence."""
    return bool(statement) and all(any(fact_matches(want, got) for got in sentence) for want in statement)
