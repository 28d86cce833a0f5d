"""Runnable measurements: ``.venv/bin/python -m benchmarks.<name>`` from the repo root."""
