"""Load against a running service: Locust in its own processes, its requests, workers and results."""
