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


def as_from_a_terminal() -> None:
    """Ctrl-C (SIGINT) reaches the child as it would from a terminal. A shell starts a background
    job with SIGINT ignored, a child inherits that, and Python then installs no KeyboardInterrupt
    handler: run as `make test &`, the tests' SIGINT would otherwise be ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.real_llm
def test_up_serves_ui_and_model_then_stops_both(isolated_state) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "optimizer.app.cli", "up", "--no-smoke", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=as_from_a_terminal)
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


@pytest.mark.real_llm
def test_model_serve_prints_url_and_stops_on_ctrl_c(isolated_state) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "optimizer.app.cli", "model", "serve", "--port", str(port), "--slots", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=as_from_a_terminal)
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


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(") ", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_ui_comes_first_smoke_runs_behind_it_and_sigterm_stops_streamlit(isolated_state) -> None:
    from fake_openai import FakeLLM

    from conftest import GOLDEN_K8S

    port = free_port()
    slow = FakeLLM(GOLDEN_K8S, delay_s=4.0)  # the smoke check's one call takes 4 s
    smoke_file = isolated_state / "smoke-check.json"
    with slow.serve() as llm_url:
        process = subprocess.Popen([sys.executable, "-m", "optimizer.app.cli", "up", "--url", llm_url, "--port", str(port)],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=as_from_a_terminal)
        try:
            deadline = time.monotonic() + 90
            ui_up = False
            while time.monotonic() < deadline and not ui_up:
                try:
                    ui_up = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert ui_up, "the UI never answered"
            state_when_ui_up = json.loads(smoke_file.read_text()) if smoke_file.exists() else None
            while time.monotonic() < deadline and json.loads(smoke_file.read_text())["level"] == "running":
                time.sleep(0.3)
            finished = json.loads(smoke_file.read_text())
            streamlit_pids = children_of(process.pid)
            assert streamlit_pids and all(alive(pid) for pid in streamlit_pids)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert state_when_ui_up is None or state_when_ui_up["level"] == "running"  # the UI did not wait for it
    assert finished["level"] == "ok" and finished["text"].startswith("smoke check passed")
    assert "parsed" in finished["detail"]
    body = slow.calls[0]
    assert body["response_format"]["type"] == "json_schema"  # the candidate is held to parseable JSON
    assert "workbench stopped" in output
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in streamlit_pids):
        time.sleep(0.2)
    assert not any(alive(pid) for pid in streamlit_pids), "streamlit outlived workbench up"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    assert not smoke_file.exists()


def test_sidebar_shows_the_smoke_check_result(isolated_state) -> None:
    from streamlit.testing.v1 import AppTest

    isolated_state.mkdir(parents=True, exist_ok=True)
    (isolated_state / "smoke-check.json").write_text(json.dumps(
        {"level": "problem", "text": "smoke check: the answer did not parse", "detail": "no Severity line: hello"}))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()  # the first page; the sidebar is drawn by app.py for every page
    assert not app.exception, app.exception
    assert [box.value for box in app.sidebar.warning] == ["smoke check: the answer did not parse"]
    assert "no Severity line: hello" in [caption.value for caption in app.sidebar.caption]
