"""Benchmarks for CVJ Kit: run with ``python -m benchmarks [NAME ...]``.

Each ``bench_*.py`` module has a ``main() -> None`` that measures one path of the kit against a
baseline timed in the same run (so the ratio, not the absolute number, is what carries between
machines) and prints its own table. Benchmarks only report; they assert nothing about times.
"""
