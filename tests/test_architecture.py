"""The core never knows the UI: importing every module of optimizer/ pulls in no streamlit or gradio."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_core_imports_no_ui_framework() -> None:
    code = (
        "import importlib, pkgutil, sys, optimizer\n"
        "names = [m.name for m in pkgutil.walk_packages(optimizer.__path__, 'optimizer.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'gradio'))\n"
        "print(len(names), bad)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 20


def test_runtime_api_is_exported() -> None:
    import optimizer

    template = optimizer.load_prompt("k8s_log_analysis")
    messages = optimizer.render(template, logs="2026-01-01T00:00:00Z pod x OOMKilled")
    assert messages[-1]["role"] == "user" and "OOMKilled" in messages[-1]["content"]
