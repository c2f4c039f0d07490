"""The README's first command ends in ``workbench up``: the UI with the embedded server behind it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ROOT
from test_browser_e2e import free_port

pytestmark = pytest.mark.real_llm


def test_up_serves_ui_and_model_then_stops_both(isolated_state) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "optimizer.cli", "up", "--no-smoke", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    state_path = isolated_state / "model-server.json"
    try:
        deadline = time.monotonic() + 120
        ui_up = False
        while time.monotonic() < deadline and not ui_up:
            try:
                ui_up = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)
        assert ui_up, "the UI never answered"
        state = json.loads(state_path.read_text())
        assert state["url"].startswith("http://127.0.0.1:") and state["kind"] == "llama.cpp"
        assert httpx.get(state["url"] + "/health", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "model server ready" in output and f"workbench: http://127.0.0.1:{port}" in output
    assert not state_path.exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(state["url"] + "/health", timeout=2)


def test_model_serve_prints_url_and_stops_on_ctrl_c(isolated_state) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "optimizer.cli", "model", "serve", "--port", str(port), "--slots", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "model server ready" not in line:
            line = process.stdout.readline()
        assert f"model server ready: http://127.0.0.1:{port} (llama.cpp, 2 slot(s)" in line
        props = httpx.get(f"http://127.0.0.1:{port}/props", timeout=5).json()
        assert props["total_slots"] == 2
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "model server stopped" in rest
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
