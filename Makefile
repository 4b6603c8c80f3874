# Two entry points do all set-up on a fresh machine:
#   make demo   create .venv if missing, then run the main job on the shipped demo photos
#   make test   create .venv if missing, then run the test suite (what CI runs)
# The environment is rebuilt only when pyproject.toml/setup.py/constraints.txt change, or the C
# extension's source (an editable install compiles it once; it is not rebuilt on import).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

# Installed with --no-deps: their declared dependencies pull opencv-python (GUI, clashes with
# the headless build), dev tools, or an old torch/numpy. Their real runtime needs are listed
# in pyproject.toml. --no-build-isolation keeps basicsr's build from fetching a CUDA torch.
NODEPS := basicsr==1.4.2 facexlib==0.3.0 insightface==2.1 pyiqa==0.1.16 facenet-pytorch==2.6.0 \
	gfpgan==1.3.8 codeformer-pip==0.0.4

.PHONY: all demo test env clean-env lint bench-degradations

all: test

$(STAMP): pyproject.toml setup.py constraints.txt portraitsr4k/image_io/_jpegcrop.c
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=23" "setuptools>=68" wheel -c constraints.txt
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,train,faces-paper]"
	$(BIN)/python -m pip install -q -c constraints.txt --no-deps --no-build-isolation $(NODEPS)
	$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	@touch $(STAMP)

env: $(STAMP)

# The main job on the shipped portraits: the degradation sheet, the PortraitSR-4K build (relaxed
# size gate: no shipped photo is 4K), a verify pass, then the bicubic/lanczos benchmark on the
# test split (leaderboard printed, report.html written).
demo: $(STAMP)
	$(BIN)/portraitsr4k-demo out_dir=$(DEMO_OUT)
	$(BIN)/portraitsr4k-build source=demo out_dir=$(DEMO_OUT)/dataset
	$(BIN)/portraitsr4k-verify $(DEMO_OUT)/dataset
	$(BIN)/portraitsr4k-bench dataset.path=$(DEMO_OUT)/dataset dataset.name=demo \
	    methods=[bicubic,lanczos] out_dir=$(DEMO_OUT)/bench

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Pyflakes-class errors (undefined names, unused imports) over every package and the tests.
lint: $(STAMP)
	$(BIN)/python -m pip install -q "ruff==0.17.6"
	$(BIN)/ruff check --select F,E9 portraitsr4k degradations benchmarks headsup_model tests

bench-degradations: $(STAMP)
	$(BIN)/python -m benchmarks.perf.degradation_speed

clean-env:
	rm -rf $(VENV)
