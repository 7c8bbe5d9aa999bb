"""The math engine: our own LaTeX and calculator-syntax parsers into a tree, evaluation, and
three-way equivalence. The one-call API is ``grader.math.api``."""
