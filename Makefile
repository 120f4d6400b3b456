# The two commands a newcomer needs:
#   make run    set up a virtualenv and run the daemon on ./config.toml
#   make test   set up a virtualenv and run every check (ruff, mypy --strict, pytest)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: run test browser lint typecheck pytest bench demo clean

$(BIN)/watcher: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(BIN)/watcher
	$(BIN)/watcher run -c $(CONFIG)

demo: $(BIN)/watcher
	$(BIN)/watcher demo

test: $(BIN)/watcher browser lint typecheck pytest

# The browser tests drive Debian's chromium (Playwright's own browser download is not available).
# As root (CI) it is installed when missing; elsewhere those tests skip with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser tests will skip"; \
	  else echo "chromium is not installed: the browser tests will skip (apt-get install chromium)"; fi; }

lint: $(BIN)/watcher
	$(BIN)/ruff check watcher tests bench
	$(BIN)/ruff format --check watcher tests bench

typecheck: $(BIN)/watcher
	$(BIN)/mypy

pytest: $(BIN)/watcher
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(BIN)/watcher
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
