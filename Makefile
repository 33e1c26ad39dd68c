# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test install migrate demo lint format lock clean

$(BIN)/rallypoint: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/rallypoint

run: install
	@mkdir -p var
	$(BIN)/rallypoint migrate --no-input -v0
	$(BIN)/rallypoint collectstatic --no-input -v0
	$(BIN)/rallypoint demo --if-empty
	@echo ""
	@echo "  Rallypoint: http://$(HOST):$(PORT)/"
	@echo "  Organizer login: http://$(HOST):$(PORT)/accounts/login/"
	@$(BIN)/python -c "from rallypoint.core.demo_support import DEMO_ORGANIZER_EMAIL as e; import os, pathlib; print('  Demo organizer:', e, '/', pathlib.Path(os.environ.get('RALLYPOINT_VAR_DIR', 'var'), 'demo_password').read_text().strip())" 2>/dev/null || true
	@echo ""
	$(BIN)/rallypoint serve

test: install
	$(BIN)/pytest -n auto --dist loadfile

lint: install
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports
	$(BIN)/python tools/mypy_baseline.py

format: install
	$(BIN)/ruff check --fix src tests bench tools
	$(BIN)/ruff format src tests bench tools

lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info
