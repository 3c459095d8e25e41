# `make demo` and `make test` do all set-up on a fresh machine (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# jsii (behind cdktn) warns loudly that Node 20 is end of life; the build still works.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: install system-deps providers kube-apiserver lint test test-fast demo bench bindings clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[cdk,serve,cloud,test,explain]'
	touch $(STAMP)

install: $(STAMP) system-deps

system-deps:
	bash scripts/install-system-deps.sh

# The prebuilt aws, google and azurerm providers that the oracle tests compare the generated
# bindings with (about 1.3 GB, 1-1.5 min). `--no-deps`: their dependencies are pinned in
# constraints.txt and installed already, so nothing is resolved. Only `make test` needs them.
PROVIDERS_STAMP := $(VENV)/.providers-stamp
$(PROVIDERS_STAMP): $(STAMP) constraints-providers.txt
	$(BIN)/python -m pip install --quiet --no-deps -r constraints-providers.txt
	touch $(PROVIDERS_STAMP)

providers: $(PROVIDERS_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# kube-apiserver and etcd for tests/apiserver, built from Go modules into a cache outside the
# repository (docs/terraform.md): minutes cold, seconds warm.
kube-apiserver:
	bash scripts/install-kube-apiserver.sh

test: lint providers kube-apiserver
	$(BIN)/pytest

# Skips tests marked slow: for the edit-run loop, never for CI.
test-fast: install
	$(BIN)/pytest -m "not slow"

# Synthesize every example for every cloud and check it offline, then show the controller ramping,
# deciding an A/B test and rolling back on the local platform (examples/demo.py says how).
demo: install
	$(BIN)/python examples/app.py
	$(BIN)/tfprod validate cdktf.out
	$(BIN)/python examples/demo.py

# Regenerates the typed bindings from the committed provider schema snapshots.
BINDINGS := kubernetes aws google azurerm
bindings: $(STAMP)
	for p in $(BINDINGS); do \
	  $(BIN)/tfprod bindings generate --schema tfprod/bindings/snapshots/$$p.json \
	    --out tfprod/bindings/$$p || exit 1; \
	done

bench: install
	$(BIN)/python bench/synth.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) cdktf.out .pytest_cache .mypy_cache .ruff_cache
