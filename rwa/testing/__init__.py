"""Helpers for the project's tests and benchmarks: a local anvil node started from node_modules."""
