"""Generators of hostile input for tests/test_bad_input.py: bombs are built at test time, small on disk."""
