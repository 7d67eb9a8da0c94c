# piecelab: `make run` opens the workbench, `make test` runs every test headless.
# Needs only python3 (3.10+) with venv, and make; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.piecelab-installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test lint format bench bench-cluster bench-quick bench-gui package model screenshots clean env

run: QT_QPA_PLATFORM =
run: $(STAMP)
	$(BIN)/piecelab gui

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

env: $(STAMP)

$(STAMP): pyproject.toml packaging/bootstrap.py
	@$(PYTHON) packaging/bootstrap.py venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	@$(BIN)/python packaging/bootstrap.py qt
	@touch $(STAMP)

# the default model shipped in resources/, trained by piecelab on the sample corpus
model: $(STAMP)
	$(BIN)/python resources/models/build_model.py

# the README's pictures of every view, taken by driving the real window (offscreen)
screenshots: $(STAMP)
	$(BIN)/python docs/make_screenshots.py --out docs/screenshots

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_curve.py
	$(BIN)/python benchmarks/bench_analysis.py
	$(BIN)/python benchmarks/bench_shuffle.py

# opt-in: about 20 minutes on 2 cores (a 1 GB corpus trained locally and on a local Ray)
bench-cluster: $(STAMP)
	$(BIN)/python benchmarks/bench_cluster.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

bench-gui: $(STAMP)
	$(BIN)/python benchmarks/gui_bench.py
	$(BIN)/python benchmarks/gui_train_bench.py

package: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	$(BIN)/python packaging/build.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
