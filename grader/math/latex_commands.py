"""The LaTeX commands the reader knows: what the grammar reads, respelled, dropped, refused (with a hint)."""

from __future__ import annotations

from grader.math import names

MATRIX_ENVS = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix"})
TRANSPARENT_ENVS = frozenset(
    name + star
    for name in (
        "aligned",
        "align",
        "equation",
        "gathered",
        "gather",
        "split",
        "multline",
        "eqnarray",
        "alignedat",
    )
    for star in ("", "*")
)
GRAMMAR_COMMANDS: dict[str, str] = {
    # command -> role used by the bar pass: "o" operand, "p" prefix (starts an operand), "x" other
    **dict.fromkeys(names.GREEK, "o"),
    **dict.fromkeys(("infty", "imath"), "o"),
    **dict.fromkeys(
        (
            "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth exp log ln det sgn erf "
            "sum prod int max min sup inf lim argmax argmin arg nabla partial frac binom sqrt boxed"
        ).split(),
        "p",
    ),
    **dict.fromkeys(names.TRANSPARENT_FONTS | names.LETTER_FONTS | set(names.ACCENTS), "p"),
    **dict.fromkeys(("top", "intercal", "prime"), "e"),
    **dict.fromkeys(
        "ast star cdot times div odot pm mp le ge ne approx equiv triangleq simeq sim to".split(), "x"
    ),
}
RENAMED: dict[str, str] = {
    "leq": r"\le",
    "leqslant": r"\le",
    "geq": r"\ge",
    "geqslant": r"\ge",
    "neq": r"\ne",
    "lt": "<",
    "gt": ">",
    "dfrac": r"\frac",
    "dbinom": r"\binom",
    "tbinom": r"\binom",
    "tfrac": r"\frac",
    "cfrac": r"\frac",
    "coloneqq": ":=",
    "rightarrow": r"\to",
    "Rightarrow": r"\to",
    "implies": r"\to",
    "longrightarrow": r"\to",
    "Longrightarrow": r"\to",
    "lbrack": "[",
    "rbrack": "]",
    "lbrace": r"\{",
    "rbrace": r"\}",
    "bigstar": r"\star",
}
SPACING = frozenset(
    "quad qquad enspace thinspace medspace thickspace negthinspace negmedspace negthickspace displaystyle "
    "textstyle scriptstyle scriptscriptstyle limits nolimits nonumber notag".split()
)
SIZING = frozenset(
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm".split()
)
DROPPED_WITH_ARGUMENT = frozenset({"tag", "tag*", "label"})
DANGEROUS = frozenset(
    """input include includeonly write write18 immediate openin openout closein closeout read readline newread
    newwrite def edef gdef xdef let futurelet newcommand renewcommand providecommand newenvironment
    renewenvironment DeclareMathOperator DeclareRobustCommand catcode csname endcsname expandafter noexpand
    href url special usepackage RequirePackage documentclass makeatletter makeatother jobname
    lstinputlisting verbatiminput includegraphics loop repeat relax begingroup endgroup detokenize scantokens
    string uppercase lowercase char mathchar directlua luaexec pdfshellescape ShellEscape message typeout
    errmessage global afterassignment aftergroup openany shipout everymath everydisplay
    everypar toks the show showthe meaning""".split()
)
DANGER_HINT = "commands that read files, run programs or define macros are never allowed in answers"
UNSUPPORTED: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("cdots", "ldots", "dots", "vdots", "ddots", "dotsc", "dotsb", "dotsm"),
        ("ellipses are not supported", "write the terms out, or use \\sum"),
    ),
    "circ": (
        "function composition (\\circ) is not supported",
        "write the composed function out, e.g. g(f(x))",
    ),
    **dict.fromkeys(
        (
            "in",
            "notin",
            "subset",
            "subseteq",
            "supset",
            "supseteq",
            "cup",
            "cap",
            "setminus",
            "emptyset",
            "varnothing",
            "forall",
            "exists",
            "land",
            "lor",
            "neg",
            "iff",
            "Leftrightarrow",
            "mapsto",
            "gets",
            "leftarrow",
            "Leftarrow",
            "colon",
            "propto",
            "ll",
            "gg",
            "perp",
            "cong",
            "models",
            "vdash",
        ),
        ("set and logic notation is not supported", "write the formula itself, e.g. x = 2"),
    ),
    **dict.fromkeys(
        ("langle", "rangle"), ("angle brackets are not supported", "write an inner product as x^T y")
    ),
    **dict.fromkeys(
        (
            "xrightarrow",
            "xleftarrow",
            "overset",
            "underset",
            "stackrel",
            "overbrace",
            "underbrace",
            "substack",
        ),
        ("stacked annotations are not supported", "leave the annotation out of the formula"),
    ),
    **dict.fromkeys(
        ("color", "textcolor", "colorbox", "fbox", "hbox", "vbox", "phantom", "hphantom", "vphantom"),
        ("colour and box commands are not supported", "remove the command and keep its content"),
    ),
    **dict.fromkeys(
        ("choose",),
        ("{n \\choose k} is not supported", "write \\binom{n}{k}"),
    ),
    "not": ("\\not is not supported", "use \\ne for 'not equal'"),
    "dagger": ("\\dagger is not supported", "write a conjugate transpose as ^T for real matrices"),
    "hbar": ("\\hbar is not supported", "write h/(2\\pi)"),
}
