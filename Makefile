# The two commands in README.md. Both set up what they need first (.ci/bootstrap).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup bench

## make demo: run-smoke against the embedded demo shop
demo: setup
	$(BIN)/run-smoke --demo

## make test: lint, type-check and the whole test suite (what CI runs)
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests monitors
	$(BIN)/ruff format --check src tests monitors
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

setup:
	@.ci/bootstrap

## make bench: benchmarks that print figures and ratios (no timed asserts); the soak, last,
## runs 1,000 journeys of serve --demo (most of an hour)
bench: setup
	$(BIN)/python tests/benchmarks/bench_overhead.py
	$(BIN)/python tests/benchmarks/bench_parallel.py
	$(BIN)/python tests/benchmarks/bench_images.py
	$(BIN)/python tests/benchmarks/bench_agent.py
	$(BIN)/python tests/benchmarks/bench_alert_latency.py
	$(BIN)/python tests/benchmarks/bench_evidence.py
	$(BIN)/python tests/benchmarks/bench_allowlist.py
	$(BIN)/python tests/benchmarks/bench_startup.py
	$(BIN)/python tests/benchmarks/bench_throughput.py
	$(BIN)/python tests/benchmarks/bench_status_page.py
	$(BIN)/python tests/benchmarks/bench_soak.py
