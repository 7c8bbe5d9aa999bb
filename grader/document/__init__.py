"""The document stage: a submission read by a real parser into line-numbered blocks."""
