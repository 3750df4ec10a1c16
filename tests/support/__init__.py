"""Test scaffolding shared by the test suite and the benchmarks; never shipped in the package."""
