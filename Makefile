# Two commands do all set-up on a fresh machine:
#   make demo   - the main job on the built-in default zoo
#   make test   - `make lint` (ruff, import contracts), then the test suite
# Both create .venv/ here, install torch==2.13.0 (the CPU wheel) before anything
# that depends on torch, then the project pinned by constraints.txt.

VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
STAMP   := $(VENV)/.installed
TORCH   := torch==2.13.0

.PHONY: demo test lint bench install clean-venv

demo: $(STAMP)
	$(VENV)/bin/kgtransfer demo

test: $(STAMP) lint
	$(VENV)/bin/pytest

# ruff, the import contracts (core -> kg, data, models -> transfer -> product; see
# tools/check_imports.py), then mypy --strict on the package (.ci/typecheck.py; see
# [tool.mypy] in pyproject.toml). `make test` runs this first, so CI checks it too.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/check_imports.py
	$(PY) .ci/typecheck.py

install: $(STAMP)

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -c constraints.txt -e ".[dev,hf,timm,server,ray]"
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
	  { echo "installing Debian chromium (report tests open the HTML report in it)"; \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	    echo "warning: could not install chromium; the browser test will be skipped"; }
	touch $@

clean-venv:
	rm -rf $(VENV)
