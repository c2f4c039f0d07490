# The two commands of the README. Both install everything first, so each works on a fresh machine.
PYTHON ?= python3
# Portable x86-64 flags for llama-cpp-python's own build: -march=native crashed on these machines.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_CURL=OFF

.PHONY: up test install install-test browser

install:
	$(PYTHON) -m pip install -e .

install-test:
	$(PYTHON) -m pip install -e '.[test]'

## Install, build llama-server once (cached), start the embedded model server and the workbench.
up: install
	$(PYTHON) -m optimizer.cli model build
	$(PYTHON) -m optimizer.cli up

## Install, build llama-server once (cached), run the whole test suite.
test: install-test browser
	$(PYTHON) -m optimizer.cli model build
	$(PYTHON) -m pytest

## Debian's chromium for the real-browser tests (Playwright drives it; no browser download).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
