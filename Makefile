# Benchmarks print figures; they never fail on speed. Tests: see README (pip install '.[test]' && pytest).
PYTHON ?= python

.PHONY: bench bench-quick test

# Every scenario against the st2 CLI (~15 min); the table also goes to benchmarks/RESULTS.md.
bench:
	$(PYTHON) -m benchmarks --markdown benchmarks/RESULTS.md

# A smoke run in a few minutes: shorter floods, 20,000 executions (RESULTS.md untouched).
bench-quick:
	$(PYTHON) -m benchmarks --quick

test:
	pytest
