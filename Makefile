# Benchmarks print figures; they never fail on speed. Tests: see README (pip install '.[test]' && pytest).
PYTHON ?= python

.PHONY: bench bench-server test

bench: bench-server
	@for script in benchmarks/[a-z]*.py; do \
		module=benchmarks.$$(basename $$script .py); \
		[ "$$module" = benchmarks.demo_server ] && continue; \
		echo "== $$module"; $(PYTHON) -m $$module || exit 1; \
	done

bench-server:
	$(PYTHON) -m benchmarks.demo_server

test:
	pytest
