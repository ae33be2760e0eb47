# reprisma: two commands on a fresh machine.
#   make run    set up (virtualenv, pinned dependencies) and replay the shipped example snapshot, offline
#   make test   set up and run the test suite (installs Debian's chromium for the report's browser test,
#               and Debian's slurm-wlm and munge for the cluster test)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SNAKEMAKE := $(BIN)/snakemake --profile workflow/profiles/default
# The protocols `make run` and `make verify` replay: the published review as reported, then its
# living update (config/config.yaml, which extends it). `make refresh` refreshes PROTOCOL.
PROTOCOLS ?= config/greenway2020.yaml config/config.yaml
PROTOCOL  ?= config/config.yaml
# `make refresh SERVICES="{eutils: {base_url: 'http://127.0.0.1:8001/entrez/eutils/'}, ctgov: {base_url: 'http://127.0.0.1:8002/api/v2'}}"`
# points a refresh at other service addresses (the emulators, for trying it offline)
SERVICES ?=
# pytest-xdist workers for `make test` (one per core on the 2-core CI machine; TEST_WORKERS=0 runs serially)
TEST_WORKERS ?= 2

.PHONY: run test setup browser cairo slurm verify refresh example-snapshot lint lock clean help

help:
	@sed -n 's/^#   //p' Makefile

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "reprisma: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

#   make run              replay the locked snapshot and render reports/ (offline)
run: $(STAMP) cairo
	@for p in $(PROTOCOLS); do echo "reprisma: replaying $$p"; $(SNAKEMAKE) --configfile $$p || exit 1; done
	@echo "reprisma: reports at $(CURDIR)/reports/report.html (the update) and $(CURDIR)/reports/greenway2020/report.html (the review as published)"

#   make verify           re-hash the snapshot, re-derive every count, diff against reports/counts.json
verify: $(STAMP)
	@for p in $(PROTOCOLS); do $(SNAKEMAKE) verify --configfile $$p --forcerun verify || exit 1; done

#   make refresh          capture a new snapshot from PubMed and ClinicalTrials.gov (needs network;
#                         set NCBI_EMAIL and, for 10 requests/s, NCBI_API_KEY), then render the report
refresh: $(STAMP) cairo
	$(SNAKEMAKE) --configfile $(PROTOCOL) --config mode=live $(if $(SERVICES),services="$(SERVICES)")
	@echo "reprisma: new capture locked in snapshots/; report at $(CURDIR)/reports/report.html"

#   make example-snapshot PSYNAMIC=DIR   rebuild the shipped example snapshot from real records via
#                         the emulators (DIR: PsyNamic's CSV exports, kept in the team's shared data)
example-snapshot: $(STAMP)
	@for p in $(PROTOCOLS); do $(BIN)/python scripts/build_example_snapshot.py --psynamic "$(PSYNAMIC)" --config $$p --force || exit 1; done

#   make test             the whole test suite
test: $(STAMP) browser cairo slurm
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

#   make lint             snakemake --lint and snakefmt --check of the workflow
lint: $(STAMP)
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check workflow

#   make browser          install Debian's chromium for the report's browser test (as root), if missing
browser:
	@bash scripts/install_browser.sh

#   make slurm            install Debian's slurm-wlm and munge for the cluster test (as root), if missing
slurm:
	@bash scripts/install_slurm.sh

#   make cairo            install Debian's libcairo2 and DejaVu fonts for prisma.png / prisma.pdf (as root), if missing
cairo:
	@bash scripts/install_cairo.sh

#   make lock             re-pin the whole dependency tree from the current virtualenv
lock: $(STAMP)
	{ echo "# Full pinned dependency tree (pip freeze of a working environment, Python 3.11)."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.lock

clean:
	rm -rf results .snakemake
