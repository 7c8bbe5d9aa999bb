"""The grading service: web pages and a JSON API over the grading pipeline and its store (``grader serve``)."""
