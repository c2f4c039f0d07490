"""Without a native build and without the optional Python server, the error says what to install."""

from __future__ import annotations

import importlib.util

import pytest

from optimizer.errors import ServerError
from optimizer.serving import llama_server


def test_missing_fallback_names_the_extra_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no cmake, no compiler: the native build cannot happen
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a))
    with pytest.raises(ServerError) as raised:
        llama_server.start_server(on_line=lambda line: None)
    message = str(raised.value)
    assert "cmake, C++ compiler not found" in message  # why the native server is unavailable
    assert "pip install -e '.[pyserver]'" in message and "--url" in message
    assert "\n" not in message
