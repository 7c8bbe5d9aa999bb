"""Stage 5: scoring: part results add up to question results and a report."""
