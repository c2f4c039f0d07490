"""Real-browser walk through issue 13's first screen, bring-your-own-task and review features
(Debian chromium driven by Playwright, against the fake OpenAI-compatible server).

A new user lands on the Overview, creates a task from a small JSONL file with their own prompt,
runs it, reviews outputs in Compare (thumbs, score, comment) and exports the winner to a new review
branch; the Agent page streams its steps while the investigation runs. Screenshots of every page
go to tests/artifacts/<test name>/ for review.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from fake_openai import FakeLLM

from optimizer.evaluate.store import RunStore

from conftest import GOLDEN_K8S
from test_browser_e2e import open_browser, streamlit_app  # noqa: F401  (the fixture is used by name)

MODEL_PATH = "/home/someone/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
REVIEWS = [
    ("I loved this phone, the battery lasts two days.", "positive"), ("Screen cracked after a week. Terrible.", "negative"),
    ("It is a phone. It makes calls.", "neutral"), ("Best purchase this year, fast and light.", "positive"),
    ("Support never answered my emails.", "negative"), ("Arrived on time; nothing special.", "neutral"),
    ("Camera is superb and the price fair.", "positive"), ("Battery died in a day, very disappointed.", "negative"),
    ("Does what it says.", "neutral"), ("Wonderful sound, great value.", "positive"), ("Broke on day two.", "negative"),
    ("Average phone for an average price.", "neutral"), ("Love it, would buy again.", "positive"),
    ("Worst phone I ever owned.", "negative"), ("It works as a phone.", "neutral"),
]


class ReviewsAndLogsLLM(FakeLLM):
    """The golden-aware fake for the k8s task, plus sentiment answers for the new task: right or
    wrong by a hash of the system prompt and the review, so candidates score differently."""

    LABELS = dict(REVIEWS)

    def reply_text(self, body: dict) -> str:
        user = body["messages"][-1]["content"].strip()
        if user in self.LABELS:
            system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
            right = int(hashlib.sha256(f"{system}\x00{user}".encode()).hexdigest()[:8], 16) % 3 != 0
            label = self.LABELS[user] if right else {"positive": "neutral", "neutral": "negative", "negative": "positive"}[self.LABELS[user]]
            return f"Label: {label}"
        return super().reply_text(body)


@pytest.fixture
def fake_llm() -> FakeLLM:
    return ReviewsAndLogsLLM(GOLDEN_K8S, model=MODEL_PATH, delay_s=0.05)


@pytest.fixture
def browser(request):
    with open_browser(request, viewport=(1440, 900)) as opened:
        yield opened.page, opened.shot, opened.settle


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    for command in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"],
                    ["commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(["git", "-C", str(path), *command], check=True)
    return path


def test_new_user_creates_runs_reviews_and_exports_a_task(streamlit_app, browser, workspace: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url, store_path = streamlit_app
    page, shot, settle = browser
    # First screen: what the workbench does and what to do first; the model by name, not path.
    page.goto(url)
    settle()
    expect(page.get_by_role("heading", name="Prompt Workbench")).to_be_visible()
    expect(page.get_by_text("What to do first.")).to_be_visible()
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("up · SmolLM2-135M-Instruct.Q4_1.gguf")).to_be_visible()
    assert "/home/someone" not in sidebar.inner_text()
    shot("overview")

    # New task from a JSONL file and the user's own prompt.
    dataset = tmp_path / "reviews.jsonl"
    dataset.write_text("".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in REVIEWS))
    page.get_by_role("link", name="New task").click()
    settle()
    page.get_by_label("Task name").fill("reviews")
    page.get_by_label("Task name").press("Enter")
    settle()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(dataset))
    settle()
    expect(page.get_by_text("output label: exact_match")).to_be_visible()
    page.get_by_label("Your prompt").fill("Classify the sentiment of this product review.")
    page.get_by_label("Your prompt").press("Control+Enter")
    settle()
    page.get_by_role("button", name="Create task").click()
    settle()
    expect(page.get_by_text("Created task reviews")).to_be_visible()
    shot("new-task")
    assert "Classify the sentiment" in (workspace / "prompt_templates/reviews_v1.yaml").read_text()

    # Run it: a small grid on the new task.
    page.get_by_role("link", name="Run", exact=True).click()
    settle()
    page.get_by_label("Task").click()
    page.get_by_role("option", name="reviews").click()
    page.get_by_label("Strategy").click()
    page.get_by_role("option", name="grid").click()
    page.get_by_label("Max candidates").fill("3")
    page.get_by_label("Validation examples").fill("8")
    page.get_by_role("button", name="Start run").click()
    settle()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with RunStore(store_path) as store:
            runs = store.list_runs()
            if runs and runs[0].task == "reviews" and runs[0].status == "completed":
                run_id = runs[0].id
                break
        time.sleep(0.5)
    else:
        pytest.fail("the run of the new task did not complete")
    shot("run")

    # Compare: line-level prompt diff, outputs first, then a human review.
    page.get_by_role("link", name="Compare", exact=True).click()
    settle()
    expect(page.locator(".prompt-diff").first).to_be_visible(timeout=30_000)  # the Compare page loads the run first
    expect(page.locator(".diff-changed, .diff-added").first).to_be_visible()
    headers = page.locator("[data-testid='stDataFrame']").nth(0)
    expect(headers).to_be_visible()
    shot("compare")
    page.get_by_role("heading", name="Per example").scroll_into_view_if_needed()
    shot("compare-per-example")
    page.get_by_role("heading", name="Human review").scroll_into_view_if_needed()
    shot("compare-human-review")
    form = page.locator("[data-testid='stForm']").nth(0)  # the first candidate, the one exported below
    form.get_by_text(re.compile(r"bad$")).click()
    form.get_by_label("Score (0-1, optional)").fill("0.3")
    form.get_by_label("Comment").fill("calls a complaint neutral")
    form.get_by_role("button", name="Save review").click()
    settle()
    saved_note = page.get_by_text(re.compile("Saved the review of"))
    expect(saved_note).to_be_visible()
    saved_note.scroll_into_view_if_needed()
    with RunStore(store_path) as store:
        saved = store.db.execute("SELECT thumb, score, comment FROM human_reviews WHERE run_id = ?", (run_id,)).fetchall()
    assert [tuple(row) for row in saved] == [(-1, 0.3, "calls a complaint neutral")]
    shot("reviewed")

    # Export: explicit target, a new review branch by default, the summary before the diff.
    repo = git_repo(tmp_path / "target")
    page.get_by_text("Another Git repository").click()
    settle()
    page.get_by_label("Path of the Git repository").fill(str(repo))
    page.get_by_label("Path of the Git repository").press("Enter")
    settle()
    page.get_by_text("Export even if its answers collapse").click()
    page.get_by_role("button", name="Prepare export").click()
    settle()
    summary = page.get_by_role("heading", name=re.compile(r"reviews_v1: prompt update"))
    expect(summary).to_be_visible()
    diff_toggle = page.get_by_text("Full file diff (as Git shows it)")
    assert summary.bounding_box()["y"] < diff_toggle.bounding_box()["y"]
    summary.scroll_into_view_if_needed()
    shot("export-prepared")
    page.get_by_role("button", name="Commit").click()
    settle()
    expect(page.get_by_text(re.compile(r"Committed prompt_templates/reviews_v1.yaml on prompts/reviews-v1"))).to_be_visible()
    shot("exported")
    assert subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%s", "main"], capture_output=True,
                          text=True).stdout.strip() == "init"

    # The branch holds the exported file with the human review in its evidence.
    exported = subprocess.run(["git", "-C", str(repo), "show", "prompts/reviews-v1:prompt_templates/reviews_v1.yaml"],
                              capture_output=True, text=True).stdout
    assert "human_review:" in exported and "calls a complaint neutral" in exported

    # Every other page, for the record (the run lists are canvas tables: checked by AppTest tests).
    for title in ("Run vs run", "Search space", "Parser", "Overview"):
        page.get_by_role("link", name=title, exact=True).click()
        settle()
        expect(page.get_by_role("heading").first).to_be_visible()
        shot(title.lower().replace(" ", "-"))


def test_agent_page_streams_steps_and_marks_a_fallback_answer(streamlit_app, browser, fake_llm) -> None:
    from playwright.sync_api import expect

    url, _ = streamlit_app
    page, shot, settle = browser
    fake_llm.delay_s = 0.4  # each model call takes a while, so a streamed step shows before the end
    page.goto(url)
    settle()
    page.get_by_role("link", name="Agent").click()
    settle()
    picker = page.get_by_label("Scenario (a simulated cluster)")
    expect(picker).to_be_visible()
    picker.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert len(options) >= 5 and all(option.startswith("Case ") for option in options), options
    for giveaway in ("OOMKilled", "oom-", "expired", "ImagePull", "typo", "panic"):
        assert not any(giveaway in option for option in options), giveaway
    page.get_by_role("button", name="Run investigation").click()
    # While the script is still running, the first step is already on screen.
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']")
    expect(page.get_by_text(re.compile(r"^Step 1 · ")).first).to_be_visible(timeout=30_000)
    still_running = page.locator("[data-testid='stApp']").get_attribute("data-test-script-state") == "running"
    shot("agent-streaming")
    assert still_running, "step 1 appeared only after the investigation finished"
    settle()
    expect(page.get_by_text(re.compile("Written by the deterministic fallback, not the model"))).to_be_visible()
    assert page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").count() >= 1
    assert page.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']").count() == 0  # no green success
    shot("agent-done")


def test_playground_investigate_button_visible_without_scrolling(browser) -> None:
    from playground import build_demo

    page, shot, _ = browser
    demo = build_demo("http://127.0.0.1:9")
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        page.goto(demo.local_url)
        button = page.get_by_role("button", name="Investigate")
        button.wait_for()
        page.wait_for_timeout(500)
        box = button.bounding_box()
        shot("playground")
        assert box is not None and box["y"] + box["height"] <= 900, box
        assert page.evaluate("window.scrollY") == 0
    finally:
        demo.close()
