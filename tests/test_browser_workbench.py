"""Real-browser checks of issue 13's editing and run defects (Debian chromium driven by Playwright).

Each test drives the workbench as a user would and fails on the behaviour the issue reported:
a table edit that reran the page without end and never reached the YAML, preview or file; YAML
errors that named fields by position; a Run page that followed the previous run after Start.
Screenshots of every step go to tests/artifacts/<test name>/ for review.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import ROOT
from test_browser_e2e import open_browser, streamlit_app  # noqa: F401  (the fixture is used by name)

SPACE_FILE = "prompt_templates/search_spaces/k8s_log_analysis.yaml"


@pytest.fixture
def browser(request):
    with open_browser(request, viewport=(1500, 1100)) as opened:
        yield opened


def test_table_edit_reaches_yaml_preview_and_file_without_a_rerun_loop(streamlit_app, browser, workspace: Path) -> None:
    from playwright.sync_api import expect

    url, _ = streamlit_app
    page = browser.page
    page.goto(url)
    browser.settle()
    page.get_by_role("link", name="Search space").click()
    browser.settle()
    expect(page.get_by_role("heading", name="Search space")).to_be_visible()
    browser.shot("search-space-table")

    # Edit the text cell of tone/neutral (second row) in the variants table and press Enter.
    grid = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    header, row = 35, 35  # the grid is a canvas: cells are reached by position
    page.mouse.click(grid["x"] + grid["width"] * 0.45, grid["y"] + header + row * 1 + row / 2)
    page.wait_for_timeout(300)
    cell_editor = page.locator("textarea.gdg-input").first
    texts = ["You are a senior Kubernetes site reliability engineer triaging logs.",
             "Read the Kubernetes logs below and classify what they show."]
    for _ in range(4):  # where the click landed depends on the layout: step to tone/neutral's text cell
        page.keyboard.press("Enter")  # opens the cell editor
        current = cell_editor.input_value(timeout=5_000)
        if current == texts[1]:
            break
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        page.keyboard.press("ArrowDown" if current == texts[0] else "ArrowUp")
        page.wait_for_timeout(300)
    expect(cell_editor).to_have_value(texts[1])
    cell_editor.fill("Classify these logs, line by line.")
    cell_editor.press("Enter")
    browser.settle()
    assert browser.stays_idle(4.0), "the page kept rerunning after one table edit"
    expect(page.get_by_text("unsaved changes")).to_be_visible()
    browser.shot("table-edited")

    # The preview renders the edited variant.
    browser.choose("tone", "neutral")
    browser.shot("preview-tone-neutral")
    preview = page.locator("[data-testid='stCode']:visible").filter(has_text="Classify these logs, line by line.")
    expect(preview.first).to_be_visible()
    browser.shot("preview-shows-edit")

    # The YAML tab has the edit, and Save writes it.
    page.get_by_role("tab", name="Raw YAML").click()
    assert "Classify these logs, line by line." in page.get_by_role("textbox", name="YAML").input_value()
    page.get_by_role("button", name="Save search space").click()
    browser.settle()
    expect(page.get_by_text("Saved k8s_log_analysis.yaml")).to_be_visible()
    saved = (workspace / SPACE_FILE).read_text()
    assert "Classify these logs, line by line." in saved
    assert "Read the Kubernetes logs below and classify what they show." not in saved
    browser.shot("saved")


def test_yaml_errors_name_fields_keep_counts_and_show_line_numbers(streamlit_app, browser, workspace: Path) -> None:
    from playwright.sync_api import expect

    url, _ = streamlit_app
    page = browser.page
    page.goto(url)
    browser.settle()
    page.get_by_role("link", name="Search space").click()
    browser.settle()
    page.get_by_role("tab", name="Raw YAML").click()
    editor = page.get_by_role("textbox", name="YAML")
    text = editor.input_value()
    # Drop one tone variant (324 -> 216 candidates), then break the text with an unknown key.
    start, end = text.index("      - name: oncall"), text.index("  - name: constraints")
    smaller = text[:start] + text[end:]
    editor.fill(smaller)
    editor.press("Control+Enter")
    browser.settle()
    expect(page.get_by_text("216", exact=True)).to_be_visible()
    broken = smaller.replace("      - name: neutral\n", "      - name: neutral\n        colour: red\n", 1)
    editor.fill(broken)
    editor.press("Control+Enter")
    browser.settle()
    line = broken.splitlines().index("        colour: red") + 1
    error = page.locator("[data-testid='stAlertContentError']").first
    expect(error).to_contain_text(f"k8s_log_analysis.yaml:{line}: tone / neutral / colour: unknown key 'colour'")
    # Counts and preview stay, from the last valid text, while the text is invalid.
    expect(page.get_by_text("216", exact=True)).to_be_visible()
    expect(page.get_by_text("Counts and preview below are from the last valid text.")).to_be_visible()
    expect(page.get_by_text("Preview a candidate")).to_be_visible()
    # The numbered view beside the editor and the excerpt show the offending line.
    expect(page.locator("[data-testid='stCode']").filter(has_text=f"> {line} |         colour: red").first).to_be_visible()
    numbered = page.locator("[data-testid='stCode']").filter(has_text="colour: red").first
    expect(numbered).to_contain_text(str(line))
    browser.shot("yaml-error-named-fields")
    assert (workspace / SPACE_FILE).read_text() == (ROOT / SPACE_FILE).read_text()  # nothing saved


def _progress_text(page) -> str:
    bar = page.locator("[data-testid='stProgress']").first
    return bar.inner_text() if bar.count() else ""


def _followed_run(page) -> str:
    """The run id the "Follow run" selectbox shows."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Follow run").first
    return box.inner_text() + " " + box.locator("input").first.input_value()


def test_run_page_follows_the_run_it_starts_and_shows_no_eta_when_stopped(streamlit_app, browser, fake_llm) -> None:
    from playwright.sync_api import expect

    from optimizer.evaluate.store import RunStore

    url, store_path = streamlit_app
    page = browser.page
    page.goto(url)
    browser.settle()
    page.get_by_role("link", name="Run", exact=True).click()
    browser.settle()

    def start(candidates: str, examples: str) -> str:
        """Start a grid run from the form; return the id of the run it created."""
        with RunStore(store_path) as store:
            before = {run.id for run in store.list_runs()}
        page.get_by_label("Strategy").click()
        page.get_by_role("option", name="grid", exact=True).click()
        page.get_by_label("Max candidates").fill(candidates)
        page.get_by_label("Validation examples").fill(examples)
        page.get_by_role("button", name="Start run").click()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with RunStore(store_path) as store:
                new = [run.id for run in store.list_runs() if run.id not in before]
            if new:
                return new[0]
            time.sleep(0.3)
        pytest.fail("the started run never reached the store")

    progress = page.locator("[data-testid='stProgress']").first
    first = start("2", "3")
    expect(progress).to_contain_text("completed · 9/9 evaluations", timeout=90_000)
    assert first in _followed_run(page)
    assert "ETA" not in _progress_text(page)  # a finished run has no ETA
    browser.shot("first-run-completed")

    # A slower second run: the page must switch to it as soon as it exists, not keep showing the first
    # (the defect: the first run's "completed · 9/9", its board, log and buttons stayed for 25 s+).
    fake_llm.delay_s = 2.0  # 39 uncached calls on 4 slots: about 20 s
    second = start("3", "12")
    expect(progress).to_contain_text("/48 evaluations", timeout=15_000)
    assert "9/9" not in _progress_text(page)
    assert second in _followed_run(page) and first not in _followed_run(page)
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()  # the running run's button, not a finished one's
    expect(page.get_by_text(f"Following run {second}")).to_be_visible()
    # The sample the run scores is stated: stratified by the task's example groups, not the first 12 in the file.
    expect(page.get_by_text("examples: 12 of 60 validation examples, stratified by example groups").first).to_be_visible()
    assert first not in page.locator("[data-testid='stMarkdown']").filter(has_text="Following run").first.inner_text()
    browser.shot("second-run-followed")

    page.get_by_role("button", name="Cancel run").click()
    expect(progress).to_contain_text("cancelled", timeout=60_000)
    assert "ETA" not in _progress_text(page)  # nor has a cancelled one
    with RunStore(store_path) as store:  # the Cancel went to the run the page follows
        assert store.get_run(second).status == "cancelled" and store.get_run(first).status == "completed"
    browser.shot("second-run-cancelled")


@pytest.fixture
def seeded_partial_run(streamlit_app, fake_client, tmp_path: Path) -> tuple[str, Path]:
    """A run in the app's store whose second candidate kept one evaluation (made before the browser
    starts), and an empty Git repository to export into."""
    import subprocess

    from optimizer.evaluate.store import RunStore
    from test_partial_evidence import make_partial_run

    _, store_path = streamlit_app
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with RunStore(store_path) as store:
        partial = make_partial_run(store, fake_client)[1]
    repo = tmp_path / "export-repo"
    repo.mkdir()
    for command in (["init", "-q", "-b", "main"], ["-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q",
                                                   "--allow-empty", "-m", "init"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    return partial, repo


def test_compare_shows_n_for_partial_candidates_and_asks_before_export(streamlit_app, seeded_partial_run, browser) -> None:
    from playwright.sync_api import expect

    url, _ = streamlit_app
    partial, repo = seeded_partial_run
    page = browser.page
    page.goto(url)
    browser.settle()
    page.get_by_role("link", name="Compare", exact=True).click()
    browser.settle()
    page.get_by_label("Candidates (2-4; the first is the reference)").click()
    page.get_by_role("option", name=f"{partial} · n=1 of 10").click()  # the partial candidate says its n
    page.keyboard.press("Escape")
    browser.settle()
    expect(page.get_by_text("over 1 paired examples").first).to_be_visible()
    expect(page.get_by_text("too small to separate").first).to_be_visible()
    browser.shot("compare-partial-candidate")
    page.get_by_label("Candidate to export", exact=True).click()
    page.keyboard.type(partial)  # the select filters its options as you type
    page.keyboard.press("Enter")
    browser.settle()
    expect(page.get_by_text("Partial evidence: scored on 1 of the run's 10 examples").first).to_be_visible()
    page.get_by_text("Another Git repository").click()
    browser.settle()
    page.get_by_label("Path of the Git repository (holds prompt_templates/)").fill(str(repo))
    page.keyboard.press("Enter")
    browser.settle()
    page.get_by_role("button", name="Prepare export").click()
    browser.settle()
    expect(page.locator("[data-testid='stAlertContentError']").filter(has_text="the evidence is partial").first).to_be_visible()
    browser.shot("compare-export-needs-confirmation")
