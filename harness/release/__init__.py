"""The release: promotion to production, the checks after it, and `harness run`."""
