# Two commands set everything up: `make run` and `make test`. uv is bootstrapped from PyPI if missing.
SHELL := /bin/bash
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint install eval record record-local bench

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

run: install  ## migrate and serve on $HOST:$PORT (SQLite under ./data/, offline model unless configured)
	$(UV) run python -m service serve

# The two suites run side by side (each is one process): SQLite's output as it comes, PostgreSQL's when it ends.
test: install  ## the suite on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (side by side), then the evals
	@mkdir -p reports
	@$(MAKE) --no-print-directory test-postgres > reports/pytest-postgres.log 2>&1 & postgres=$$!; \
	$(MAKE) --no-print-directory test-sqlite; sqlite=$$?; \
	wait $$postgres; pg=$$?; cat reports/pytest-postgres.log; \
	test $$sqlite -eq 0 && test $$pg -eq 0
	$(MAKE) --no-print-directory eval

test-sqlite:
	env -u TEST_DATABASE_URL $(UV) run pytest $(PYTEST_ARGS) --junitxml=reports/pytest-sqlite.xml

test-postgres:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(UV) run pytest $(PYTEST_ARGS) --junitxml=reports/pytest-postgres.xml; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

lint: install  ## ruff; mypy --strict on service/ and evals/; mypy (as pyproject.toml configures it) on tests/
	$(UV) run ruff check service tests evals bench
	$(UV) run ruff format --check service tests evals bench
	$(UV) run mypy --strict service evals
	$(UV) run mypy --explicit-package-bases tests

eval: install  ## replay every cassette and run the offline model over evals/cases; non-zero under thresholds or when stale
	$(UV) run python -m evals run --model all --report reports/evals

record: install  ## re-record the cassettes against OPENAI_API_KEY / OPENAI_BASE_URL: make record MODEL=gpt-4.1-mini
	@test -n "$(MODEL)" || { echo "usage: make record MODEL=NAME"; exit 2; }
	$(UV) run python -m evals record --model "$(MODEL)" --report reports/evals-record

record-local: install  ## record every case against a real open model run here (see evals/README.md)
	UV="$(UV)" bash evals/local_model/record_local.sh

bench: install  ## the performance benchmark (docs/performance.md): prints a table, writes JSON to bench/results/; PostgreSQL too with TEST_DATABASE_URL
	$(UV) run python -m bench
