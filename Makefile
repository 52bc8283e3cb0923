# mechbench: `make run` runs the main job end to end on the embedded stack; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
BOOT := .tools
UV := $(BOOT)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

FAMILIES ?= all
COUNT ?= 15
SEED ?= 1
RANDOM_DESIGNS ?= 300
PART ?= examples/bracket.step
METHOD ?= cnc_milling
MATERIAL ?= aluminum_6061
QUANTITY ?= 100
BENCHMARK ?= chute-s0-v2
DESIGN ?= examples/designs/chute_design.py

.PHONY: install browser run analyze evaluate dev worker test test-fast faults bench histories lint clean

## Headless Chromium and its driver for the report's browser test (Debian packages; root, or sudo when there).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,$(if $(shell command -v sudo),sudo))

install: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

browser: $(CHROMIUM) $(CHROMEDRIVER)

# One grouped rule: a single apt run installs both, skipped when both binaries already exist.
$(CHROMIUM) $(CHROMEDRIVER) &:
	$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium chromium-driver

## The main job: embedded Temporal dev server + worker, a dataset of one benchmark per family, a summary table.
run: install
	$(VENV)/bin/mechbench generate --embedded --families $(FAMILIES) --count $(COUNT) --seed $(SEED) --random-designs $(RANDOM_DESIGNS)

## Manufacturing analysis of one part on the embedded stack: DFM findings, quote, ladder, alternatives.
analyze: install
	$(VENV)/bin/mechbench analyze $(PART) --method $(METHOD) --material $(MATERIAL) --quantity $(QUANTITY) --embedded

## A design against a published benchmark on the embedded stack (publishes chute seed 0 first if needed).
evaluate: install
	$(VENV)/bin/mechbench benchmark chute 0 --embedded > /dev/null
	$(VENV)/bin/mechbench evaluate $(BENCHMARK) $(DESIGN) --embedded

## Embedded server + Web UI + worker in the foreground (Ctrl-C stops everything).
dev: install
	$(VENV)/bin/mechbench dev

worker: install
	$(VENV)/bin/mechbench worker

## All tests: engines, workflows on a dev server the session starts, replays of committed histories.
test: install browser
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q tests/engine

## Fault suite: worker SIGKILLs, server restart, store outage, cancellations, replay guards, fuzzing, soak.
## Prints a table (fault, injected, survived, work lost); QUICK=1 is the shortened run CI makes; BURN=1 keeps
## every core at 100 % meanwhile (a busy-looping process per core, stopped by the suite); ONLY="kills store"
## runs some scenarios, REPEAT=N runs them N times in a row.
faults: install
	$(PY) -m faults $(if $(QUICK),--quick) $(if $(BURN),--burn) $(if $(ONLY),--only $(ONLY)) \
		$(if $(REPEAT),--repeat $(REPEAT)) --report faults-report.json

## Side-by-side performance ratios (not a test; never gates CI).
bench: install
	$(PY) -m benchmarks.run_all $(if $(SCALE),--scale)

## Re-record the replay histories after an intended workflow change (commit the JSON files).
histories: install
	$(PY) -m tests.replay.record $(if $(TAG),--tag $(TAG))

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) $(BOOT) .pytest_cache
