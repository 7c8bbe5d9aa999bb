"""LaTeX → sanitised MathML: rendered when safe, escaped source when not, never student markup."""

from __future__ import annotations

import pytest
from report_samples import tags_of

from grader.reports.mathml import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_ELEMENTS,
    MAX_LATEX_CHARS,
    latex_to_mathml,
    render_math,
    render_text_with_math,
    sanitise_mathml,
)

SCRIPT = "<script>document.title='PWNED'</script>"


@pytest.mark.parametrize(
    ("latex", "present", "absent"),
    [
        (r"\frac{1-p}{p}", ['<math display="inline">', "<mfrac>", "<mi>p</mi>"], ["<code"]),
        (
            r"\begin{pmatrix} 0 & -\frac12 \\ \frac12 & 0 \end{pmatrix}",
            ['<mtable class="fence-paren">', "<mtr>", "<mtd>", "<mfrac>"],
            ["<code", "<mo>(</mo>"],
        ),
        (
            r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
            ["<mtable", "<mo>=</mo>"],
            ["<mi>&amp;</mi>", "<code"],
        ),
        (r"\lambda^{\text{dropout}}", ["<msup>", "<mtext>dropout</mtext>"], ["<code"]),
        (r"\text{a < b & c}", ["<mtext>a\xa0&lt;\xa0b\xa0&amp;\xa0c</mtext>"], ["<code"]),
        (r"a < b", ["<mo>&lt;</mo>"], ["<code"]),
        (r"\color{red}{x}", ['mathcolor="red"'], ["<code"]),
        # Student markup inside \text{} is never markup: the whole formula falls back to source.
        (r"\text{" + SCRIPT + "}", ['<code class="latex">', "&lt;script&gt;"], ["<script", "<math"]),
        (r"\text{<img src=x onerror=alert(1)>}", ["<code", "&lt;img"], ["<img", "<math"]),
        (
            r"x + \text{</mtext></math><script>alert(1)</script>}",
            ["<code", "&lt;/math&gt;"],
            ["<script", "<math"],
        ),
        (r"\text{<!-- c -->}", ["<code", "&lt;!--"], ["<!--", "<math"]),
        (r"\text{<b>bold</b>}", ["<code", "&lt;b&gt;"], ["<b>", "<math"]),
        # Commands whose attributes would link or style: rendered, attribute dropped.
        (r"\href{javascript:alert(1)}{x}", ["<mi>x</mi>"], ["href", "javascript"]),
        (r"\style{background:url(https://evil.example/)}{x}", ["<mi>x</mi>"], ["style=", "url(", "evil"]),
        (r"\color{url(javascript:alert(1))}{x}", [], ["javascript", "url("]),
        # What the converter cannot read is shown as escaped source.
        (r"x^{", ['<code class="latex">x^{</code>'], ["<math"]),
        (r"\frac", ['<code class="latex">\\frac</code>'], ["<math"]),
        ("", ['<code class="latex"></code>'], ["<math"]),
        ("x" * (MAX_LATEX_CHARS + 1), ['<code class="latex">xxx'], ["<math"]),
    ],
)
def test_render_math(latex: str, present: list[str], absent: list[str]) -> None:
    html = render_math(latex)
    for fragment in present:
        assert fragment in html
    for fragment in absent:
        assert fragment not in html
    for tag, attrs in tags_of(html):
        assert tag in ALLOWED_ELEMENTS or tag == "code"
        for name, _ in attrs:
            assert name in ALLOWED_ATTRIBUTES | {"display", "class"}


@pytest.mark.parametrize(
    ("mathml", "expected"),
    [
        ("<math><mi>a</mi></math>", '<math display="inline"><mi>a</mi></math>'),
        (
            '<math><mi onclick="alert(1)" mathvariant="bold">a</mi></math>',
            '<math display="inline"><mi mathvariant="bold">a</mi></math>',
        ),
        (
            '<math href="javascript:alert(1)" xmlns="http://www.w3.org/1998/Math/MathML"><mi>a</mi></math>',
            '<math display="inline"><mi>a</mi></math>',
        ),
        (
            '<math><mi mathvariant="x:expression(alert(1))">a</mi></math>',
            '<math display="inline"><mi>a</mi></math>',
        ),
        (
            '<math><mspace width="1em" style="display:none"/></math>',
            '<math display="inline"><mspace width="1em"></mspace></math>',
        ),
        ("<math><mi>&lt;script&gt;</mi></math>", '<math display="inline"><mi>&lt;script&gt;</mi></math>'),
        ("<math><mi>&</mi></math>", '<math display="inline"><mi>&amp;</mi></math>'),
        ("<math><mi>a</mi></math><script>alert(1)</script>", None),
        ('<math><annotation-xml encoding="text/html"><img src=x></annotation-xml></math>', None),
        ("<math><semantics><mi>a</mi></semantics></math>", None),
        ("<math><mi>a</mrow></math>", None),
        ("<math><mi>a</math>", None),
        ("<math><mrow><mi>a</mi></math>", None),
        ("<math><!-- c --><mi>a</mi></math>", None),
        ("<math><![CDATA[<script>]]></math>", None),
        ("<?xml version='1.0'?><math><mi>a</mi></math>", None),
        ("<math><mi>a</mi></math><math><mi>b</mi></math>", None),
        ("text<math><mi>a</mi></math>", None),
        ("<mi>a</mi>", None),
    ],
)
def test_sanitise_mathml(mathml: str, expected: str | None) -> None:
    assert sanitise_mathml(mathml) == expected


@pytest.mark.parametrize(
    ("cells", "marked"),
    [
        ([(1, 2), (2, 1)], 2),
        ([(1, 1)], 1),
        ([(3, 1), (1, 3), (0, 0), (-1, 2)], 0),  # outside the matrix: ignored
        ([], 0),
    ],
)
def test_wrong_cells_are_marked(cells: list[tuple[int, int]], marked: int) -> None:
    html = render_math(r"\begin{pmatrix} 0 & \frac12 \\ -\frac12 & 0 \end{pmatrix}", wrong_cells=cells)
    assert html.count('<mtd class="wrong-entry">') == marked
    assert html.count("wrong-entry") == marked


@pytest.mark.parametrize(
    ("latex", "fence"),
    [
        (r"\begin{pmatrix} a \\ b \end{pmatrix}", "paren"),
        (r"\left(\begin{matrix} a \\ b \end{matrix}\right)", "paren"),
        (r"\begin{bmatrix} a \\ b \end{bmatrix}", "bracket"),
        (r"\begin{vmatrix} a \\ b \end{vmatrix}", "vert"),
        (r"\begin{Vmatrix} a \\ b \end{Vmatrix}", "dvert"),
        (r"\begin{cases} a & x > 0 \\ b & x \le 0 \end{cases}", None),  # one-sided: the brace stays an <mo>
        (r"(a + b)", None),  # not a matrix: parentheses stay operators
    ],
)
def test_matrix_fences_are_drawn_by_css(latex: str, fence: str | None) -> None:
    html = render_math(latex)
    if fence is None:
        assert "fence-" not in html
    else:
        assert f'<mtable class="fence-{fence}">' in html
        assert "<mo>" not in html and "<mo " not in html  # the one-line-tall delimiters are gone


def test_wrong_cells_mark_the_right_entry() -> None:
    html = render_math(r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", wrong_cells=[(2, 1)])
    assert '<mtd class="wrong-entry"><mi>c</mi></mtd>' in html


def test_display_mode() -> None:
    assert str(latex_to_mathml("x", display=True)).startswith('<math display="block">')
    assert str(latex_to_mathml("x")).startswith('<math display="inline">')


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        (r"a <b>bold</b> $\frac12$ end", ["a &lt;b&gt;bold&lt;/b&gt; ", "<mfrac>", " end"], ["<b>"]),
        (r"so $$x = \frac{1}{2}$$ holds", ['<math display="block">', "holds"], []),
        (
            r"\(x\) and \[y\]",
            ['<math display="inline"><mrow><mi>x</mi>', '<math display="block"><mrow><mi>y</mi>'],
            [],
        ),
        (r"cost \$5 {{ 7*7 }}", ["cost \\$5 {{ 7*7 }}"], ["<math", "49"]),
        ("$\\text{" + SCRIPT + "}$ tail", ["<code", "&lt;script&gt;", " tail"], ["<script"]),
        ("unclosed $x + y", ["unclosed ", "<mi>x</mi>"], []),
    ],
)
def test_render_text_with_math(text: str, present: list[str], absent: list[str]) -> None:
    html = render_text_with_math(text)
    for fragment in present:
        assert fragment in html
    for fragment in absent:
        assert fragment not in html
    assert not any(tag in {"script", "b", "img"} for tag, _ in tags_of(html))


def _forget_conversions() -> None:
    from grader._internal.cache import forget_memory
    from grader.reports import mathml

    mathml._convert.cache_clear()
    forget_memory()


def test_a_formula_is_converted_once_then_read_from_the_disk_cache() -> None:
    """Workers and the class page share conversions through the disk, byte for byte."""
    from unittest import mock

    latex = r"\frac{\partial}{\partial \theta} \log p_\theta(x) \quad \text{(cached once)}"
    first = latex_to_mathml(latex, display=True)
    assert first is not None
    _forget_conversions()
    with mock.patch("latex2mathml.converter.convert", side_effect=AssertionError("converted again")):
        again = latex_to_mathml(latex, display=True, wrong_cells=[(1, 1)])
        assert latex_to_mathml(latex, display=True) == first
    assert again is not None and str(again) == str(first)  # no matrix: no cell to mark


def test_a_tampered_disk_cache_entry_is_sanitised_like_fresh_output() -> None:
    """Whatever the cache folder holds goes through the allow-list: a planted <script> is source."""
    import json

    from grader._internal.cache import cache_dir

    latex = r"x + \text{planted}"
    assert latex_to_mathml(latex) is not None
    folder = cache_dir()
    assert folder is not None
    files = [p for p in (folder / "mathml").rglob("*.json") if json.loads(p.read_text())["value"].count("planted")]
    assert len(files) == 1
    stored = json.loads(files[0].read_text())
    stored["value"] = f'<math display="inline">{SCRIPT}</math>'
    files[0].write_text(json.dumps(stored))
    _forget_conversions()
    html = render_math(latex)
    assert html.startswith('<code class="latex">') and "<script" not in html
