"""The model under test, reached in-process or over HTTP in one of the protocols."""
