# Two commands on a fresh machine (Debian 12, Python 3.11):
#   make demo   builds the environment, simulates a small survey, runs three iterations
#   make test   builds the environments and runs the tests
PYTHON ?= python3
VENV := .venv
LS_VENV := .venv-labelstudio
CHROMIUM := /usr/bin/chromium
PIP_QUIET := --quiet --disable-pip-version-check
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: env demo test lint clean

env: $(VENV)/.installed $(LS_VENV)/.installed $(CHROMIUM)

$(VENV)/.installed: envs/pipeline.txt pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "Python's venv module is missing: apt-get install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -r envs/pipeline.txt
	$(VENV)/bin/pip install $(PIP_QUIET) --no-deps -e .
	touch $@

$(LS_VENV)/.installed: envs/labelstudio.txt
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install $(PIP_QUIET) -r envs/labelstudio.txt
	touch $@

# Debian's chromium: the test that opens the labelling page drives it (Playwright's core).
$(CHROMIUM):
	@if [ "$$(id -u)" -eq 0 ]; then \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	else \
	  echo "the labelling-page test needs Debian's chromium: sudo apt-get install chromium"; \
	fi

demo: $(VENV)/.installed
	snakemake --profile profiles/default
	alspec report results

# pytest exits 5 when it collects no test: that is not a failure of the code.
test: env
	pytest -ra; status=$$?; if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

lint: $(VENV)/.installed
	ruff check src tests scripts
	ruff format --check src tests scripts
	snakemake --lint

clean:
	rm -rf results .snakemake
