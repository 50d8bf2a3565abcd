"""Benchmarks: scripts a person runs (see README, "Benchmarks"); figures go to results.md."""
