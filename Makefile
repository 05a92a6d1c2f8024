# 联户 (lianhu). `make demo` brings the product up with demo data; `make test` runs the tests.
#
# Everything installs itself: the virtualenv and Python packages (re-installed when a requirements
# file changes) and the npm assets in frontend/ (re-installed when package-lock.json changes).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed

# `make test DATABASE_URL=postgres://...` runs the suite on PostgreSQL; unset means SQLite. (Make passes
# variables given on the command line or in the environment on to the recipes.)
# Extra pytest arguments: `make test ARGS="-k scoping -x"`.
ARGS ?=
# `make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_lianhu` (created and dropped).
BENCH_DATABASE_URL ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help venv install keys demo test bench browsers

help:
	@echo "make demo      bring the product up with demo data on http://127.0.0.1:8000 (SQLite)"
	@echo "make test      run the tests (DATABASE_URL=postgres://... make test for PostgreSQL)"
	@echo "make bench     measure server time of the main pages against a bare Django view, and the 100k-row import"
	@echo "make install   virtualenv + Python packages + npm assets"
	@echo "make keys      write data/local.env with DJANGO_SECRET_KEY and LIANHU_DATA_KEY if missing"
	@echo "make browsers  apt-get install Chromium and a Chinese font for the browser tests"

venv install: $(PY_STAMP) $(NPM_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend
	npm ci --no-audit --no-fund --loglevel=error
	test -f node_modules/htmx.org/dist/htmx.min.js
	touch node_modules/.installed

keys: $(PY_STAMP)
	LIANHU_ALLOW_INSECURE_KEY=1 $(PY) manage.py init_keys

demo: install keys
	@export DJANGO_DEBUG=1
	export LIANHU_DEMO_MODE=1  # the demo accounts log in only in the demo mode
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	echo
	echo "accounts: minggang (办事处党工委) / minggang_staff / zhongguan (社区书记) / fenhoulv (村书记) /"
	echo "          member (党员) / grid (网格员) / advisor (党建指导员) / zone (区党工委) /"
	echo "          minggang_audit, zone_audit (审计管理员); password Lianhu@2026"
	echo "          (demo mode: no second factor for the zone, office and audit accounts)"
	echo "open http://127.0.0.1:8000/  (Ctrl-C stops the server and the worker)"
	echo
	$(PY) manage.py worker &
	worker=$$!
	trap 'kill $$worker 2>/dev/null || true; wait $$worker 2>/dev/null || true' EXIT
	$(PY) manage.py runserver 127.0.0.1:8000

# SQLite runs in a throwaway data directory, so tests never touch data/ (nor its local.env keys).
test: install
	@tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	if [ -n "$${DATABASE_URL:-}" ]; then echo "database: $${DATABASE_URL%%:*} from DATABASE_URL"; else echo "database: SQLite (data dir $$tmp)"; fi
	status=0
	LIANHU_DATA_DIR="$$tmp" $(VENV)/bin/pytest $(ARGS) || status=$$?
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; fi
	exit $$status

bench: install
	$(PY) bench/run.py $(if $(BENCH_DATABASE_URL),--database-url "$(BENCH_DATABASE_URL)") $(ARGS)
	$(PY) bench/bench_import.py $(if $(BENCH_DATABASE_URL),--database-url "$(BENCH_DATABASE_URL)")
	$(PY) bench/bench_solver.py $(if $(BENCH_DATABASE_URL),--demo-database-url "$(BENCH_DATABASE_URL)")

browsers:
	@if [ -x /usr/bin/chromium ] && dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
		echo "chromium and fonts-wqy-microhei are installed"
	else
		$(SUDO) apt-get update -q
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-wqy-microhei
	fi
