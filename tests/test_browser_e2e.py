"""One real-browser walk through the workbench: Debian's chromium driven by Playwright.

Starts ``streamlit run app.py`` headless against the fake OpenAI-compatible server, edits a
search-space variant, runs a small grid, opens Compare with two candidates and checks that the
prompt diff, the metric chart and the per-example table are on screen. Screenshots of every step
land in the test's tmp dir (and one more on failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from optimizer.evaluate.store import RunStore

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason="Debian chromium not installed (make test installs it)")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


class Browser:
    """One page of a real chromium with screenshot and settle helpers."""

    def __init__(self, page, shots: Path) -> None:
        self.page, self.shots, self.step = page, shots, 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.shots / f"{self.step:02d}-{name}.png"), full_page=True)

    def settle(self) -> None:
        self.page.wait_for_selector(IDLE)
        self.page.wait_for_timeout(300)
        self.page.wait_for_selector(IDLE)

    def stays_idle(self, seconds: float) -> bool:
        """True when the script does not start again for ``seconds`` (no rerun loop)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.page.locator("[data-testid='stApp']").get_attribute("data-test-script-state") == "running":
                return False
            self.page.wait_for_timeout(100)
        return True

    def choose(self, label: str, option: str) -> None:
        self.page.get_by_label(label, exact=True).click()
        self.page.get_by_role("option", name=option, exact=True).click()
        self.settle()


ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def open_browser(request, *, viewport: tuple[int, int]) -> Iterator[Browser]:
    """A real chromium page for one test; its screenshots (and one on failure) go to
    tests/artifacts/<test name>/, emptied first."""
    from playwright.sync_api import sync_playwright

    shots = ARTIFACTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.set_default_timeout(60_000)
        failed_before = request.session.testsfailed
        try:
            yield Browser(page, shots)
            if request.session.testsfailed > failed_before:  # the call phase has been reported by now
                page.screenshot(path=str(shots / "failure.png"), full_page=True)
        finally:
            chromium.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def streamlit_app(workspace: Path, fake_llm, tmp_path: Path):
    with fake_llm.serve() as llm_url:
        port = free_port()
        env = {**os.environ, "WORKBENCH_LLM_URL": llm_url, "WORKBENCH_ROOT": str(workspace),
               "WORKBENCH_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
        log = open(tmp_path / "streamlit.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            else:
                pytest.fail("streamlit did not become healthy: " + (tmp_path / "streamlit.log").read_text()[-2000:])
            yield url, tmp_path / "home" / "runs.sqlite"
        finally:
            process.terminate()
            process.wait(10)
            log.close()


def test_edit_run_compare_in_a_real_browser(streamlit_app, workspace: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store_path = streamlit_app
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(60_000)
        step = 0

        def shot(name: str) -> None:
            nonlocal step
            step += 1
            page.screenshot(path=str(shots / f"{step:02d}-{name}.png"), full_page=True)

        def settle() -> None:
            page.wait_for_selector(IDLE)
            page.wait_for_timeout(300)
            page.wait_for_selector(IDLE)

        try:
            page.goto(url)
            settle()
            expect(page.get_by_role("heading", name="Prompt Workbench")).to_be_visible()  # the Overview comes first
            page.get_by_role("link", name="Search space").click()
            settle()
            expect(page.get_by_role("heading", name="Search space")).to_be_visible()
            shot("search-space")

            # Change a variant in the raw YAML, then save.
            page.get_by_role("tab", name="Raw YAML").click()
            editor = page.get_by_role("textbox", name="YAML")
            text = (workspace / "prompt_templates/search_spaces/k8s_log_analysis.yaml").read_text()
            edited = text.replace("Read the Kubernetes logs below and classify what they show.",
                                  "Classify the Kubernetes logs below, line by line.")
            assert edited != text
            editor.fill(edited)
            editor.press("Control+Enter")
            settle()
            page.get_by_role("button", name="Save search space").click()
            settle()
            expect(page.get_by_text("Saved k8s_log_analysis.yaml")).to_be_visible()
            assert "line by line" in (workspace / "prompt_templates/search_spaces/k8s_log_analysis.yaml").read_text()
            shot("saved")

            # Start a small grid run and wait for it to finish.
            page.get_by_role("link", name="Run", exact=True).click()
            settle()
            page.get_by_label("Strategy").click()
            page.get_by_role("option", name="grid").click()
            page.get_by_label("Max candidates").fill("2")
            page.get_by_label("Validation examples").fill("3")
            page.get_by_role("button", name="Start run").click()
            settle()
            shot("run-started")
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with RunStore(store_path) as store:
                    runs = store.list_runs()
                    if runs and runs[0].status == "completed":
                        break
                time.sleep(0.5)
            else:
                pytest.fail("the run did not complete")
            expect(page.get_by_text("completed · 9/9 evaluations")).to_be_visible(timeout=30_000)
            shot("run-completed")

            # Compare two candidates.
            page.get_by_role("link", name="Compare").click()
            settle()
            expect(page.get_by_text("(baseline)").first).to_be_visible()
            expect(page.locator("ins.diff-ins").first).to_be_visible()
            expect(page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first).to_be_visible()
            expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
            expect(page.get_by_text("95% CI").first).to_be_visible()
            shot("compare")
        except Exception:
            page.screenshot(path=str(shots / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) >= 5


def test_a_deep_link_as_the_first_request_gets_the_whole_app(streamlit_app, request) -> None:
    """A bookmark of /compare opened first on a freshly started server gets the app: its navigation
    and the model-server sidebar, not the page script alone with the page folder's raw files listed."""
    from playwright.sync_api import expect

    url, _ = streamlit_app
    with open_browser(request, viewport=(1440, 900)) as browser:
        browser.page.goto(url + "/compare")
        browser.settle()
        browser.shot("compare-opened-first")
        sidebar = browser.page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Model server")).to_be_visible()
        expect(sidebar.get_by_text("Run vs run", exact=True)).to_be_visible()
        for raw in ("common", "export panel", "review panel"):
            expect(sidebar.get_by_text(raw, exact=True)).to_have_count(0)
