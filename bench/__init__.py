"""Benchmarks of the gate against the pollers people write today (``python -m bench``)."""
