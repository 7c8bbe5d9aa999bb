"""Stage 6: reports: JSON, CSV gradebook, terminal feedback."""
