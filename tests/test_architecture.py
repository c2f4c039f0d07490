"""The house keeps its shape: import-linter's layer contracts hold, and the runtime API is light."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_import_linter_contracts_hold() -> None:
    """The layers and forbidden imports declared in pyproject.toml (also run by ``make test``)."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Contracts: 3 kept, 0 broken." in output


def test_runtime_import_is_light() -> None:
    """Production's ``import optimizer`` (load_prompt + render) pulls in no pandas, server or UI."""
    code = "import sys, optimizer; print(sorted(m for m in ('pandas', 'httpx', 'streamlit', 'gradio', 'dspy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_runtime_api_is_exported() -> None:
    import optimizer

    template = optimizer.load_prompt("k8s_log_analysis")
    messages = optimizer.render(template, logs="2026-01-01T00:00:00Z pod x OOMKilled")
    assert messages[-1]["role"] == "user" and "OOMKilled" in messages[-1]["content"]
