"""Benchmarks: each bench_*.py module has main(); `python -m bench` runs them all."""
