"""The input stage: open a submission file safely and tell its format from the file."""
