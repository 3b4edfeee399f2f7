# Quick start: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-core
BENCH_STAMP := $(VENV)/.installed-bench
DEMO_OUT ?= demo-out
DEMO_CUSTOMERS ?= 100000

.PHONY: demo test bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[spark,serve,dev,test]"
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[spark,serve,dev,test,bench]"
	$(PY) -m pip install -q --disable-pip-version-check --no-deps balance==0.23.0
	@touch $(BENCH_STAMP)

demo: $(STAMP)
	$(VENV)/bin/cxlab demo --customers $(DEMO_CUSTOMERS) --out $(DEMO_OUT)

test: $(STAMP)
	@# the report tests open the HTML reports in headless Chromium; skipped (with the reason) when it cannot be installed
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "chromium could not be installed: the browser tests will be skipped"
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(BENCH_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) bench/results/*.json
