"""Running the pipeline: one submission (pipeline), a class (batch), and where the work runs (executors)."""
