"""st2tui benchmarks against the st2 CLI: `python -m benchmarks` (see __main__.py) or `make bench`."""
