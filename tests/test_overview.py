"""The first screen: what the workbench does, the server, the tasks and the latest runs; sidebar details."""

from __future__ import annotations

import asyncio
import socket

from fake_openai import FakeLLM
from streamlit.testing.v1 import AppTest

from optimizer.app.server_status import free_port, model_display_name
from optimizer.config.paths import default_store_path
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import RunStore

from conftest import ROOT


def open_app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def test_overview_is_the_first_page_with_first_steps_tasks_and_latest_runs(fake_client) -> None:
    with RunStore(default_store_path()) as store:
        run_id = asyncio.run(run_plan(store, plan_run(RunRequest(task="k8s_log_analysis", max_candidates=1, n_examples=3)), fake_client))
    app = open_app()
    assert app.title[0].value == "Prompt Workbench"
    assert any("What to do first" in markdown.value for markdown in app.markdown)
    assert any(error.value.startswith("down:") for error in app.main.error)  # server state, with what to do
    tasks = next(frame.value for frame in app.dataframe if "task" in frame.value and "validation" in frame.value)
    row = tasks[tasks["task"] == "k8s_log_analysis"].iloc[0]
    assert row["validation"] > 0 and "severity (" in row["outputs"] and row["inputs"].startswith("logs")
    runs = next(frame.value for frame in app.dataframe if "run" in frame.value)
    assert runs["run"].tolist() == [run_id] and runs["status"].tolist() == ["completed"]
    assert runs["evaluations"].tolist() == ["6/6"]


def test_sidebar_names_the_model_file_not_its_absolute_path(monkeypatch) -> None:
    fake = FakeLLM(model="/home/someone/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    with fake.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        app = open_app()
    shown = [element.value for element in app.sidebar.success]
    assert shown == ["up · SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert model_display_name("C:\\models\\tiny.gguf") == "tiny.gguf" and model_display_name("fake-model") == "fake-model"


def test_start_button_port_is_free_even_when_8080_is_taken() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        port = free_port(preferred=taken)
        assert port != taken
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # it really is free


def test_start_button_launches_the_server_on_a_free_port(monkeypatch) -> None:
    """The sidebar button calls ``launch_embedded_server()`` with no port: it must pick a free one
    when 8080 is taken (here often by another model server)."""
    from optimizer.app import server_status

    launched: list[list[str]] = []
    monkeypatch.setattr(server_status.subprocess, "Popen", lambda args, **kwargs: launched.append(args))
    with socket.socket() as busy:
        try:
            busy.bind(("127.0.0.1", 8080))
            busy.listen()
        except OSError:
            pass  # already taken by something else: the same situation
        server_status.launch_embedded_server()
        assert launched and launched[0][-2] == "--port"
        port = int(launched[0][-1])
        assert port != 8080
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
