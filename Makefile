# Two commands on a fresh machine (Debian 12, Python 3.11):
#   make demo   builds the environment, simulates a small survey, runs three iterations
#   make test   builds the environments and runs the tests
# On a cluster's GPU nodes: `make env GPU=1` (TensorFlow with CUDA, envs/pipeline-gpu.txt).
PYTHON ?= python3
GPU ?= 0
VENV := .venv
LS_VENV := .venv-labelstudio
PIP_QUIET := --quiet --disable-pip-version-check
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: env debian demo test gpu-check lint clean

env: $(VENV)/.installed $(LS_VENV)/.installed debian

$(VENV)/.installed: envs/pipeline.txt pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "Python's venv module is missing: apt-get install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -r envs/pipeline.txt
	$(VENV)/bin/pip install $(PIP_QUIET) -c envs/pipeline.txt -e ".[slurm,dev]"
ifeq ($(GPU),1)
	$(VENV)/bin/pip uninstall $(PIP_QUIET) --yes tensorflow-cpu
	$(VENV)/bin/pip install $(PIP_QUIET) -r envs/pipeline-gpu.txt
endif
	touch $@

$(LS_VENV)/.installed: envs/labelstudio.txt
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install $(PIP_QUIET) -r envs/labelstudio.txt
	touch $@

# Debian packages the tests use: chromium (the labelling-page test drives it through
# Playwright's core) and a single-node Slurm (scripts/slurm). Installed when run as root.
DEBIAN_PACKAGES := chromium munge slurmctld slurmd slurm-client
debian:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "some tests need Debian packages: sudo apt-get install" $$missing; \
	fi

demo: $(VENV)/.installed
	snakemake --profile profiles/default
	snakemake --profile profiles/default --report results/report.html
	@echo "every iteration's figures: $(CURDIR)/results/report.html"

# pytest exits 5 when it collects no test: that is not a failure of the code.
test: env
	pytest -ra --durations=25; status=$$?; if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

# On a GPU node, after `make env GPU=1`: the CNN's training and inference on the GPU, and
# its agreement with the CPU (scripts/gpu_check.py; never part of the tests).
gpu-check: $(VENV)/.installed
	python scripts/gpu_check.py

lint: $(VENV)/.installed
	ruff check src tests scripts
	ruff format --check src tests scripts
	snakemake --lint

clean:
	rm -rf results .snakemake
