"""grader: automated grading and answer checking for math-heavy written assignments."""

__version__ = "0.1.0"
