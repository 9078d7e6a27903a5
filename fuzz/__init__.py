"""Fuzzing of the parsers: the harness (fuzz_parse) and the long coverage-guided campaign (long)."""
