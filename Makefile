# make demo: set up and run the offline demo.  make test: set up and run every gate.
# make lint: ruff, formatting, mypy, the import-layer contracts (lint-imports) and the generated-docs check (make test runs it first).
# make docs: regenerate docs/cli.md, docs/views.md and README.md's exit codes from the code.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The gates type-check and test the DuckLake backend too, so they need its extras (the lake tests
# skip when no PostgreSQL can start, unless WAREHOUSE_REQUIRE_LAKE=1 as in .ci/run).
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint docs install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,web]'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,lake,lake-test,inspect,web,web-test,notebook]'
	touch $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/warehouse demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mypy --disallow-untyped-defs scripts
	$(BIN)/python scripts/gen_docs.py --check

# pytest exits 5 when it collects nothing: that is a failure here, never a silent pass.
test: lint
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) build *.egg-info
