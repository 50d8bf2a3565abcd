"""Benchmarks: scripts a person runs (docs/performance.md); figures go to results.md."""
