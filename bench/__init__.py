"""Benchmarks: `python bench/search_bench.py --utterances N` (see its docstring)."""
