# The two commands a newcomer needs:
#   make run    set up a virtualenv and run the daemon on ./config.toml
#   make test   set up a virtualenv and run every check (ruff, mypy --strict, pytest)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: run test browser office shell postgres lint imports typecheck pytest bench demo clean

# Two stamps: the daemon and the demo need only the runtime dependencies; the checks add the test
# toolchain (pytest, playwright, mypy, ruff, hypothesis, import-linter) to the same venv.
RUNTIME := $(VENV)/.runtime-installed
TESTENV := $(VENV)/.test-installed

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	# The stream's compiled helper (Cython, from the package registry; docs/benchmarks.md): built where a
	# C compiler is at hand, else the stream runs the same loops in pure Python, only slower.
	($(BIN)/pip install -q cython && $(BIN)/python -m watcher.stream.build) \
	  || echo "the compiled stream helper was not built: the stream runs in pure Python"
	touch $@

$(TESTENV): pyproject.toml $(RUNTIME)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(RUNTIME)
	$(BIN)/watcher run -c $(CONFIG)

demo: $(RUNTIME)
	$(BIN)/watcher demo

test: $(TESTENV) browser office shell postgres lint imports typecheck pytest

# The browser tests drive Debian's chromium (Playwright's own browser download is not available).
# As root (CI) it is installed when missing; elsewhere those tests skip with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser tests will skip"; \
	  else echo "chromium is not installed: the browser tests will skip (apt-get install chromium)"; fi; }

# The import profiles are read back by what reads them in a museum: LibreOffice headless (Debian's
# libreoffice-calc-nogui) and PHP's CSV parser, which CollectiveAccess and Omeka S import with (php-cli).
# As root (CI) they are installed when missing; elsewhere those tests skip with a reason (under CI they fail).
office:
	@command -v soffice >/dev/null 2>&1 && command -v php >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui php-cli >/dev/null) \
	      || echo "could not install libreoffice-calc-nogui php-cli: the profile tests will skip"; \
	  else echo "soffice or php is not installed: the profile tests will skip (apt-get install libreoffice-calc-nogui php-cli)"; fi; }

# systemd/watcherctl is checked with shellcheck (Debian's package); installed as root (CI) when missing.
shell:
	@command -v shellcheck >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null) \
	      || echo "could not install shellcheck: the watcherctl lint test will skip"; \
	  else echo "shellcheck is not installed: the watcherctl lint test will skip (apt-get install shellcheck)"; fi; }

# The PostgreSQL tests start Debian's server in a temporary cluster (tests/support/postgres.py). As root
# (CI) it is installed when missing, without the package's default cluster; elsewhere those tests skip
# with a reason (under CI they fail).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    mkdir -p /etc/postgresql-common; \
	    [ -e /etc/postgresql-common/createcluster.conf ] || echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef postgresql >/dev/null) \
	      || echo "could not install postgresql: the PostgreSQL tests will skip"; \
	  else echo "postgresql is not installed: the PostgreSQL tests will skip (apt-get install postgresql)"; fi; }

lint: $(TESTENV)
	$(BIN)/ruff check watcher tests bench
	$(BIN)/ruff format --check watcher tests bench

# No stage imports a stage above it: the layers contract in pyproject.toml [tool.importlinter].
imports: $(TESTENV)
	$(BIN)/lint-imports

typecheck: $(TESTENV)
	$(BIN)/mypy

pytest: $(TESTENV)
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(TESTENV)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
