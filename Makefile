# Two commands: `make demo` and `make test`. Each bootstraps what it needs on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests talk to: LibreOffice (.doc/.wps conversion, rendering checks), unar (RAR),
# Dovecot (real IMAP), PostgreSQL (scale-out backend), a CJK font and poppler (rendered notices).
DEB_TEST := libreoffice-writer-nogui libreoffice-calc-nogui unar dovecot-imapd postgresql fonts-noto-cjk poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest system-deps venv bench clean lock

demo: venv
	$(BIN)/xinbao demo

test: system-deps venv lint typecheck pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m benchmarks.run

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "xinbao needs Python >= 3.11"'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { $(MAKE) venv-deb && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# Debian's python3 lacks ensurepip until python3-venv is installed.
venv-deb:
	$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv

# Installs only what is missing, so a second run costs a dpkg query.
system-deps:
	@missing=$$(for p in $(DEB_TEST); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install $$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
