"""Benchmarks: each module is run as `python -m bench.<name>` and prints a table and a verdict."""
