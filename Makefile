# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system demo test lint unit integration clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Python packages, then the Kafka jars (resolved from Maven Central into .cache/).
setup: $(VENV)/.installed
	$(BIN)/python -c "from streams.broker import ensure_jars; ensure_jars()"

# Debian packages the tests use: the real Prometheus server and promtool.
system:
	@if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends prometheus; \
	fi

demo: setup
	$(BIN)/incident-monitor demo

lint: setup
	$(BIN)/ruff check streams tests bench
	$(BIN)/ruff format --check streams
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -m "not integration"

integration: system setup
	$(BIN)/pytest -m integration

test: system lint
	$(BIN)/pytest

clean:
	-$(BIN)/incident-monitor broker stop
	rm -rf .var
