"""The submission stage: read a student's file, split it into answers, extract what to check."""
