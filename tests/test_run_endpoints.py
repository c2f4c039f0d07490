"""Several servers from the Run page: extra URLs (one per line) and an endpoints YAML are checked in the
core (one-line errors, nothing started) and passed on to the ``workbench optimize`` process, which
then spreads the run over every server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GOLDEN_K8S, open_page, wait_for
from fake_openai import FakeLLM

from optimizer.app.background import request_arguments
from optimizer.config.paths import default_store_path
from optimizer.errors import ConfigError
from optimizer.evaluate.runner import RunRequest
from optimizer.evaluate.store import RunStore
from optimizer.serving.endpoint_input import ExtraEndpoints, parse_extra_endpoints


def test_extra_urls_one_per_line_become_url_arguments(tmp_path: Path) -> None:
    extra = parse_extra_endpoints("\n  http://10.0.0.6:8080/ \n\nhttps://gpu.example:8000/v1x\n", "",
                                  main_url="http://127.0.0.1:8080")
    assert extra.urls == ("http://10.0.0.6:8080", "https://gpu.example:8000/v1x")
    assert extra.cli_arguments() == ["--url", "http://10.0.0.6:8080", "--url", "https://gpu.example:8000/v1x"]
    assert not parse_extra_endpoints("  \n", " ") and parse_extra_endpoints("", "").cli_arguments() == []


@pytest.mark.parametrize(("text", "message"), [
    ("http://ok:1\nfake.invalid:80", "extra endpoint URLs, line 2: 'fake.invalid:80' is not an http(s) URL"),
    ("http://a b:1", "extra endpoint URLs, line 1: 'http://a b:1' is not one URL"),
    ("http://host:99999", "extra endpoint URLs, line 1: 'http://host:99999' is not a valid URL"),
    ("http://h:1?x=1", "without ?query"),
    ("http://h:1\n\nhttp://h:1/", "extra endpoint URLs, line 3: http://h:1 repeats line 1"),
    ("http://127.0.0.1:8080", "repeats the main server's URL"),
    ("".join(f"http://h:{port}\n" for port in range(1, 71)), "line 65: more than 64 URLs"),
])
def test_bad_extra_urls_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_extra_endpoints(text, main_url="http://127.0.0.1:8080/")
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_endpoints_yaml_path_is_checked_before_the_run_starts(tmp_path: Path) -> None:
    good = tmp_path / "endpoints.yaml"
    good.write_text("endpoints:\n  - url: http://10.0.0.6:8000\n    concurrency: 16\n")
    extra = parse_extra_endpoints("", "endpoints.yaml", base=tmp_path)
    assert extra.endpoints_file == good.resolve() and extra.cli_arguments() == ["--endpoints", str(good.resolve())]
    with pytest.raises(ConfigError, match="no such file"):
        parse_extra_endpoints("", "missing.yaml", base=tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("endpoints:\n  - url: http://10.0.0.6:8000\n    concurrency: 0\n")
    with pytest.raises(ConfigError) as raised:
        parse_extra_endpoints("", str(bad))
    assert "concurrency" in str(raised.value) and str(bad) in str(raised.value)


def _start_from_page(app, examples: int) -> None:
    app.number_input[0].set_value(2)  # max candidates (and the baseline)
    app.number_input[2].set_value(examples)  # validation examples
    app.button[0].click().run()  # the form's submit
    assert not app.exception, app.exception
    assert not app.main.error, [element.value for element in app.main.error]


def test_run_page_spreads_one_run_over_the_extra_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    main, other = FakeLLM(GOLDEN_K8S, delay_s=0.05), FakeLLM(GOLDEN_K8S, delay_s=0.05)
    with main.serve() as main_url, other.serve() as other_url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", main_url)
        app = open_page("views/run.py")
        app.text_area[0].set_value(f"\n{other_url}\n")
        _start_from_page(app, 6)
        with RunStore(default_store_path()) as store:
            wait_for(lambda: store.list_runs() and store.list_runs()[0].status in ("completed", "failed"), 90)
            run = store.list_runs()[0]
            assert run.status == "completed", run.message
            assert store.count_evaluations(run.id) == 18
    # The run's process got both URLs: it stored both and both servers answered.
    assert main_url in run.server_url and other_url in run.server_url
    assert main.calls and other.calls and len(main.calls) + len(other.calls) == 18


def test_run_page_passes_an_endpoints_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, other = FakeLLM(GOLDEN_K8S, delay_s=0.05), FakeLLM(GOLDEN_K8S, delay_s=0.05)
    with main.serve() as main_url, other.serve() as other_url:
        endpoints = tmp_path / "endpoints.yaml"
        endpoints.write_text(f"endpoints:\n  - url: {other_url}\n    concurrency: 2\n")
        monkeypatch.setenv("WORKBENCH_LLM_URL", main_url)
        app = open_page("views/run.py")
        app.text_input[2].set_value(str(endpoints))  # after the proposer URL and model
        _start_from_page(app, 4)
        with RunStore(default_store_path()) as store:
            wait_for(lambda: store.list_runs() and store.list_runs()[0].status in ("completed", "failed"), 90)
            run = store.list_runs()[0]
            assert run.status == "completed", run.message
    assert other_url in run.server_url and other.calls and main.calls


def test_run_page_refuses_a_bad_url_and_starts_nothing(fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_llm.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        app = open_page("views/run.py")
        app.text_area[0].set_value("http://10.0.0.6:8080\n10.0.0.7:8080")
        app.button[0].click().run()
        assert not app.exception, app.exception
        assert [element.value for element in app.error] == [
            "extra endpoint URLs, line 2: '10.0.0.7:8080' is not an http(s) URL like http://10.0.0.5:8080"]
        assert [element.value for element in app.info] == ["No runs yet."]  # no plan shown, no run started
        with RunStore(default_store_path()) as store:
            assert store.list_runs() == []
    assert not fake_llm.calls


def test_cli_arguments_follow_the_main_url() -> None:
    """The page's command line: the request's flags, then --url for the main server, then the extras."""
    from optimizer.app import background

    seen: list[list[str]] = []
    original = background._spawn
    background._spawn = lambda arguments, run_id: seen.append(arguments)  # type: ignore[assignment]
    try:
        request = RunRequest(task="k8s_log_analysis")
        background.start_background_run(request, store_path=Path("s.sqlite"), url="http://main:1",
                                         extra=ExtraEndpoints(("http://b:2",), Path("/e.yaml")))
        background.resume_background_run("r1", store_path=Path("s.sqlite"), url="http://main:1",
                                         extra=ExtraEndpoints(("http://b:2",)))
    finally:
        background._spawn = original
    start, resume = seen
    assert start[:len(request_arguments(request))] == request_arguments(request)
    tail = start[len(request_arguments(request)):]
    assert tail[tail.index("--url"):] == ["--url", "http://main:1", "--url", "http://b:2", "--endpoints", "/e.yaml"]
    assert resume[-4:] == ["--url", "http://main:1", "--url", "http://b:2"]
