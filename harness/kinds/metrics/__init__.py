"""Each kind's quality metrics as functions of the rows drawn: the figure on all rows and
the bootstrap's resamples come from the same code (``harness.stats.bootstrap``)."""
