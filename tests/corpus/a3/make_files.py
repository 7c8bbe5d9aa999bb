"""Writes this corpus's notebook and Word files with the tools students use: nbformat for the
notebook, python-docx and pandoc for Word. Run it again after editing the sources below:

    .venv/bin/python tests/corpus/a3/make_files.py
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import docx
import nbformat
from nbformat import v4

from grader.document.docx import pandoc_path

HERE = Path(__file__).resolve().parent

NOTEBOOK = [
    ("md", "# Assignment 3\nName: Notebook Student. I worked in Jupyter; the code cells check my algebra."),
    ("md", "### Question 1.1\nWith $M = X \\odot R$: $\\mathbb{E}[M] = pX$ and $\\mathbb{E}[M^\\top M] = p^2X^\\top X + p(1-p)\\operatorname{diag}(X^\\top X)$, so\n$$\\mathbb{E}[L(w)] = \\|y - pXw\\|^2 + p(1-p)\\|\\Gamma w\\|^2$$"),
    ("md", "### Question 1.2\nDividing the stationarity condition by $p$ I get\n$$\\lambda^{\\text{dropout}} = \\frac{p}{1-p}$$\nThe coefficient decreases as $p$ increases."),
    ("code", "import numpy as np\np = 0.8\nprint(p / (1 - p))"),
    ("md", "### Question 1.3\n$$w^{L_2} = (X^\\top X + \\lambda I)^{-1}X^\\top y$$"),
    ("md", "### Question 1.4\nWeight decay shrinks all weights equally (isotropic $\\lambda I$) while dropout's penalty $\\lambda\\Gamma^2$ is data-dependent per feature."),
    ("md", "### Question 2.1\n$\\mathbb{E}_q[\\log p_\\theta(x,z)] = \\log p_\\theta(x) - KL(q\\|p_\\theta(z|x)) - H[q]$ and the entropy does not depend on $\\theta$."),
    ("md", "### Question 2.2\nThe amortized one is bigger: $KL(q_{\\phi^*}(z|x_i)\\|p_\\theta(z|x_i)) \\ge KL(q_i^*(z)\\|p_\\theta(z|x_i))$."),
    ("md", "### Question 2.3\n(a) The instance-dependent approach is less biased: the amortized estimate pays the amortization gap.\n\n(b) Amortized inference is faster: one encoder pass per datapoint.\n\n(c) Amortized inference needs less memory, only $\\phi$ is stored."),
    ("md", "### Question 3.1\nChange of variables: $p_{F(U)}(x) = p_U(F^{-1}(x))|\\det J_{F^{-1}}(x)|$; after substituting $u = F^{-1}(x)$ the log-det terms cancel."),
    ("md", "### Question 3.2\nScenario 1: reverse KL (we can evaluate $p_X$). Scenario 2: forward KL (maximum likelihood on the samples)."),
    ("md", "### Question 4.1\n$$D^*(x) = \\frac{p_1(x)}{p_0(x)+p_1(x)}$$\n$$JSD(p_0, p_1) = \\frac{1}{2}\\left(\\mathbb{E}_{x\\sim p_1}[\\log D^*(x)] + \\mathbb{E}_{x\\sim p_0}[\\log(1-D^*(x))]\\right) + \\log 2$$"),
    ("md", "### Question 4.2\n$1 - D^*(x) = \\frac{f_0(x)}{f_0(x)+f_1(x)}$, hence $\\frac{D^*(x)}{1-D^*(x)} = \\frac{f_1(x)}{f_0(x)}$ and $f_1(x) = f_0(x)\\frac{D^*(x)}{1-D^*(x)}$."),
    ("md", "### Question 5.1\n$$v = \\begin{pmatrix} -\\theta\\sigma(\\psi_0\\theta+\\psi_1) \\\\ \\sigma(-\\psi_1)-\\sigma(\\psi_0\\theta+\\psi_1) \\\\ \\psi_0\\sigma(\\psi_0\\theta+\\psi_1) \\end{pmatrix}$$\nStationary point: $(\\psi_0^*, \\psi_1^*, \\theta^*) = (0, 0, 0)$."),
    ("md", "### Question 5.2\n$$J^* = \\begin{pmatrix} 0 & 0 & \\frac12 \\\\ 0 & -\\frac12 & 0 \\\\ -\\frac12 & 0 & 0 \\end{pmatrix}$$"),
    ("code", "J = np.array([[0, 0, .5], [0, -.5, 0], [-.5, 0, 0]])\nnp.linalg.eigvals(J)"),
    ("md", "### Question 5.3\n$\\lambda = -\\frac12, \\pm\\frac{i}{2}$: the system is not asymptotically stable, the flow circles around the equilibrium."),
    ("md", "### Question 5.4\n$$\\bar{v} = \\begin{pmatrix} -\\theta\\sigma(\\psi_0\\theta+\\psi_1) - \\gamma\\psi_0 \\\\ \\sigma(-\\psi_1)-\\sigma(\\psi_0\\theta+\\psi_1) \\\\ \\psi_0\\sigma(\\psi_0\\theta+\\psi_1) \\end{pmatrix}$$\nStationary point: $(\\psi_0^*, \\psi_1^*, \\theta^*) = (0, 0, 0)$."),
    ("md", "### Question 5.5\n$$\\bar{J}^* = \\begin{pmatrix} -\\gamma & 0 & -\\frac12 \\\\ 0 & -\\frac12 & 0 \\\\ \\frac12 & 0 & 0 \\end{pmatrix}$$"),
    ("md", "### Question 5.6\n$$\\lambda = -\\frac12, \\frac{-\\gamma\\pm\\sqrt{\\gamma^2-1}}{2}$$\nAll real parts are negative, so the regularized system is locally asymptotically stable."),
]


def notebook() -> None:
    cells = []
    for kind, source in NOTEBOOK:
        if kind == "md":
            cells.append(v4.new_markdown_cell(source))
        else:
            cells.append(v4.new_code_cell(source, outputs=[v4.new_output("stream", text="4.0\n")], execution_count=len(cells)))
    nbformat.write(v4.new_notebook(cells=cells), str(HERE / "02_notebook.ipynb"))


WORD_PARAGRAPHS = [
    ("heading", "Assignment 3 answers"),
    ("p", "Question  5"),
    ("p", "5 .3  λ = −1/2 and λ = ±i/2. The system is not asymptotically stable: the flow circles around the equilibrium."),
    ("p", "5 .6  Eigenvalues: λ = −1/2, (−γ ± √(γ² − 1))/2. Every real part is negative, so the regularized system is locally asymptotically stable."),
    ("p", "Question  1"),
    ("p", "1 .2  λ_dropout = (1 − p)/p , and the coefficient decreases as p increases."),
    ("p", "1 .3  w_L2 = (XᵀX + λI)⁻¹Xᵀy"),
    ("p", "Question  2"),
    ("p", "2 .2  The amortized KL is bigger: the amortization gap is never negative."),
    ("p", "2 .3"),
    ("p", "( b )  Amortized inference is cheaper: one encoder pass per datapoint."),
    ("p", "( c )  The amortized approach needs more memory than the instance-dependent one."),
    ("p", "Question  3"),
    ("p", "3 .2  Scenario 1: forward KL. Scenario 2: reverse KL."),
]


def word_by_hand() -> None:
    """A Word file typed in Word: Unicode math in the text, odd spacing, answers out of order."""
    document = docx.Document()
    for kind, text in WORD_PARAGRAPHS:
        if kind == "heading":
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    document.save(str(HERE / "07_word_spacing.docx"))


def word_with_equations() -> None:
    """A Word file whose equations are Word equations (pandoc writes them from the LaTeX)."""
    source = (HERE / "sources" / "08_equations.md").read_text(encoding="utf-8")
    subprocess.run([pandoc_path(), "-f", "markdown", "-t", "docx", "-o", str(HERE / "08_equations.docx")], input=source.encode(), check=True)


if __name__ == "__main__":
    notebook()
    word_by_hand()
    word_with_equations()
