"""Where a batch's submissions are graded: a local pool of worker processes, or Dask."""
