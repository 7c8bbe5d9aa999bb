"""Tools for rubric authors and students that drive the whole pipeline: seal, rubric tests, mutants, template, quick check."""
