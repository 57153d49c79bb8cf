"""What runs in deepchecks' own virtualenv (``runner.py``) and the file format both sides
share (``exchange.py``). The harness imports ``exchange`` only; ``runner`` is a script."""
