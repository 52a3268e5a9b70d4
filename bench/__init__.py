"""Benchmarks: they print figures and assert nothing. Run `python -m bench.tick` or
`python -m bench.import`."""
