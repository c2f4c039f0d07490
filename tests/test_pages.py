"""Every page renders under Streamlit's AppTest, and its key actions reach the file or the store."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optimizer.config.paths import default_store_path
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import RunStore

from conftest import ROOT, open_page, wait_for


def open_app() -> AppTest:
    """The app on its default page (AppTest keeps the sidebar only for the entry page)."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def test_sidebar_shows_server_state_and_start_button(fake_llm, monkeypatch) -> None:
    app = open_app()
    assert any("down" in element.value for element in app.sidebar.error)
    assert any(button.label == "Start embedded server" for button in app.sidebar.button)
    with fake_llm.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        app = open_app()
        assert any("up · fake-model" in element.value for element in app.sidebar.success)
        assert any("4 slot(s)" in element.value for element in app.sidebar.caption)


def test_search_space_page_counts_previews_and_saves(workspace: Path) -> None:
    app = open_page("views/search_space.py")
    assert [metric.value for metric in app.metric][:2] == ["324", "6,480"]
    assert any("Candidate `" in caption.value for caption in app.caption)
    space_file = workspace / "prompt_templates/search_spaces/k8s_log_analysis.yaml"
    original = space_file.read_text()

    broken = original.replace("  - name: reasoning\n", "  - nme: reasoning\n")
    app.text_area(key="yaml_editor::k8s_log_analysis").set_value(broken).run()
    errors = [element.value for element in app.error]
    line = broken.splitlines().index("  - nme: reasoning") + 1
    assert any(f"k8s_log_analysis.yaml:{line}: dimensions #5 / name" in error for error in errors), errors
    assert space_file.read_text() == original  # nothing saved
    # Counts and the preview stay visible (from the last valid text) while the text is invalid.
    assert [metric.value for metric in app.metric][:2] == ["324", "6,480"]
    assert any("Candidate `" in caption.value for caption in app.caption)
    assert any("from the last valid text" in caption.value for caption in app.caption)
    # The numbered view beside the editor shows the text as typed, and the error's line is excerpted.
    assert any("nme: reasoning" in code.value and code.proto.show_line_numbers for code in app.code)
    assert any(f"> {line} |   - nme: reasoning" in code.value for code in app.code)

    edited = original.replace("      - name: neutral\n", "      - name: plain\n")
    edited = edited.replace("Read the Kubernetes logs below and classify what they show.", "Classify these Kubernetes logs.")
    app.text_area(key="yaml_editor::k8s_log_analysis").set_value(edited).run()
    assert not app.main.error, [e.value for e in app.main.error]
    app.button(key="save_space").click().run()
    assert any("Saved" in element.value for element in app.success)
    assert "name: plain" in space_file.read_text() and "Classify these Kubernetes logs." in space_file.read_text()


def test_search_space_table_edit_updates_yaml_and_count(workspace: Path) -> None:
    app = open_page("views/search_space.py")
    editor = app.text_area(key="yaml_editor::k8s_log_analysis")
    text = editor.value
    # Removing a tone variant in the YAML shrinks the space from 324 to 216 candidates.
    start = text.index("      - name: oncall")
    end = text.index("  - name: constraints")
    app.text_area(key="yaml_editor::k8s_log_analysis").set_value(text[:start] + text[end:]).run()
    assert app.metric[0].value == "216"


def test_run_page_starts_a_background_run_that_completes(fake_llm, monkeypatch) -> None:
    with fake_llm.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        app = open_page("views/run.py")
        app.number_input[0].set_value(2)  # max candidates
        app.number_input[2].set_value(3)  # validation examples
        app.button[0].click().run()  # the form's submit
        assert not app.exception, app.exception
        assert any("plan: 3 candidates x 3 examples = 9 calls" in element.value for element in app.info)
        with RunStore(default_store_path()) as store:
            wait_for(lambda: store.list_runs() and store.list_runs()[0].status == "completed")
            run = store.list_runs()[0]
            assert store.count_evaluations(run.id) == 9
        app.run()
        assert "completed · 9/9 evaluations" in app.get("progress")[0].proto.text
        assert any(run.id in frame.value["run"].tolist() for frame in app.dataframe if "run" in frame.value)


def test_run_page_cancel_and_resume(fake_llm, monkeypatch) -> None:
    fake_llm.delay_s = 0.2
    with fake_llm.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        app = open_page("views/run.py")
        app.number_input[0].set_value(5)
        app.number_input[2].set_value(10)
        app.number_input[3].set_value(1)  # concurrency 1: slow enough to cancel
        app.button[0].click().run()
        with RunStore(default_store_path()) as store:
            wait_for(lambda: store.list_runs() and store.count_evaluations(store.list_runs()[0].id) >= 2)
            run_id = store.list_runs()[0].id
            app.run()
            app.button(key=f"cancel::{run_id}").click().run()
            wait_for(lambda: store.get_run(run_id).status == "cancelled", 30)
            app.run()
            fake_llm.delay_s = 0.0
            app.button(key=f"resume::{run_id}").click().run()
            wait_for(lambda: store.get_run(run_id).status == "completed", 60)
            assert store.count_evaluations(run_id) == 60


@pytest.fixture
def stored_run(fake_client) -> str:
    with RunStore(default_store_path()) as store:
        plan = plan_run(RunRequest(task="k8s_log_analysis", max_candidates=3, n_examples=8, seed=2))
        return asyncio.run(run_plan(store, plan, fake_client))


def test_compare_page_shows_diff_chart_table_and_paired_test(stored_run: str) -> None:
    app = open_page("views/compare.py")
    with RunStore(default_store_path()) as store:
        baseline_id = store.get_run(stored_run).config["baseline_id"]
    assert app.multiselect(key=f"compare_candidates::{stored_run}").value[0] == baseline_id
    html = [element.proto.body for element in app.get("html") if "prompt-diff" in element.proto.body]
    assert len(html) == 2 and "diff-changed" not in html[0] and "diff-ins" in html[1]  # same frame for every column
    sentences = [element.value for element in app.markdown if "95% CI" in element.value]
    assert sentences and "over 8 paired examples" in sentences[0]
    charts = [json.loads(element.proto.spec)["title"] for element in app.get("vega_lite_chart")]
    assert charts == ["Per-field scores on the examples they share (95% bootstrap CI; n in the legend)"]
    tables = len(app.dataframe)
    assert "pareto_cost" not in [radio.key for radio in app.radio]  # nothing of the whole run until it is opened
    app.session_state["whole_run"] = True  # open "Whole run"
    app.run()
    charts = [json.loads(element.proto.spec)["title"] for element in app.get("vega_lite_chart")]
    assert [title.split(" (")[0].split(":")[0] for title in charts] == [
        "Per-field scores on the examples they share", "Factor effects", "Overall vs mean completion tokens", "Score vs calls"]
    assert len(app.dataframe) == tables + 1 and "pareto_cost" in [radio.key for radio in app.radio]  # its board, its cost axis
    assert all(element.proto.data.data for element in app.get("vega_lite_chart"))  # each with its data
    table = app.dataframe[0].value  # the per-example table comes first
    selected = app.multiselect(key=f"compare_candidates::{stored_run}").value
    # Candidate labels and their outputs come right after the example id, before expected values and scores.
    assert len(table) == 8 and table.columns[1] == f"{baseline_id} (baseline) output"
    assert table.columns[2].startswith("#") and table.columns[2].endswith(f"{selected[1]} output")
    assert {"expected severity", f"{baseline_id} (baseline) overall"} <= set(table.columns)
    app.radio(key="example_filter").set_value("only failures").run()
    filtered = app.dataframe[0].value
    assert len(filtered) <= 8 and filtered["any_failure"].all()


def test_compare_page_exports_and_commits(stored_run: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "prompt_templates").mkdir(parents=True)
    (repo / "prompt_templates" / "k8s_log_analysis_v1.yaml").write_text((ROOT / "prompt_templates/k8s_log_analysis_v1.yaml").read_text())
    for command in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"],
                    ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True)
    app = open_page("views/compare.py")
    # Target and branch are explicit choices; the default branch is a new review branch.
    assert app.radio(key="export_target").value == "This workbench's repository"
    assert app.radio(key="export_branch_mode").value.startswith("A new review branch")
    app.radio(key="export_target").set_value("Another Git repository").run()
    app.text_input(key="export_repo").set_value(str(repo)).run()
    # 8 examples cannot separate the best other candidate from the baseline: export asks for a confirmation.
    app.selectbox(key="export_candidate").set_value(app.multiselect(key=f"compare_candidates::{stored_run}").value[1]).run()
    assert any("Partial evidence" in warning.value for warning in app.warning)
    app.button(key="prepare_export").click().run()
    assert any("the evidence is partial" in error.value for error in app.error)
    app.checkbox(key="export_partial").check().run()
    app.button(key="prepare_export").click().run()
    assert not app.exception and not app.main.error, [e.value for e in app.main.error]
    assert "partial_evidence" in app.session_state["prepared_export"].template.evaluation
    # The review summary is on the page before the full diff, which sits in a collapsed expander.
    review = next(index for index, m in enumerate(app.markdown) if "prompt update" in m.value)
    assert any("diff --git a/prompt_templates/k8s_log_analysis_v1.yaml" in code.value for code in app.expander[-1].code)
    assert app.markdown[review].value.startswith("## k8s_log_analysis_v2")
    app.button(key="commit_export").click().run()
    assert any("Committed prompt_templates/k8s_log_analysis_v2.yaml on prompts/k8s_log_analysis-v2" in s.value for s in app.success)
    branch_log = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "prompts/k8s_log_analysis-v2"],
                                capture_output=True, text=True).stdout
    assert branch_log.startswith("feat(prompts): k8s_log_analysis v2")
    main_log = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "main"], capture_output=True, text=True).stdout
    assert main_log.strip() == "init"  # the current branch is untouched by default
    assert not (repo / "prompt_templates/k8s_log_analysis_v2.yaml").exists()

    app.radio(key="export_branch_mode").set_value("The target's current branch").run()
    app.button(key="prepare_export").click().run()
    app.button(key="commit_export").click().run()
    assert any("Committed prompt_templates/k8s_log_analysis_v2.yaml on main" in s.value for s in app.success)
