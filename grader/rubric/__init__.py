"""Stage 1: the rubric, read from TOML and validated (see ``models`` and ``load``)."""
