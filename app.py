"""Streamlit entry: the navigation over pages/ and the model-server sidebar shown on every page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages.common import get_store
from optimizer.app.server_status import embedded_server_starting, launch_embedded_server, server_status, smoke_check

st.set_page_config(page_title="Prompt Workbench", layout="wide")

PAGES = [
    ("pages/overview.py", "Overview", ":material/home:"),
    ("pages/new_task.py", "New task", ":material/add_circle:"),
    ("pages/search_space.py", "Search space", ":material/tune:"),
    ("pages/run.py", "Run", ":material/play_arrow:"),
    ("pages/compare.py", "Compare", ":material/compare:"),
    ("pages/run_vs_run.py", "Run vs run", ":material/compare_arrows:"),
    ("pages/agent.py", "Agent", ":material/smart_toy:"),
    ("pages/parser.py", "Parser", ":material/data_object:"),
]
ROOT = Path(__file__).resolve().parent
navigation = st.navigation(
    [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES if (ROOT / path).exists()]
)

with st.sidebar:
    st.subheader("Model server")
    status = server_status(get_store())
    if status.up:
        st.success(f"up · {status.model}", icon=":material/check_circle:")
        st.caption(f"{status.url} · {status.slots} slot(s)")
    else:
        st.error("down", icon=":material/error:")
        st.caption(status.problem or "")
        if embedded_server_starting():
            st.info("embedded server starting (first start builds llama-server, minutes)")
        elif st.button("Start embedded server", key="start_server"):
            launch_embedded_server()
            st.rerun()
    if status.tokens_per_s:
        st.caption(f"measured {status.tokens_per_s:.1f} tokens/s per request")
    smoke = smoke_check()
    if smoke is not None:
        SMOKE_BOXES = {"running": st.info, "ok": st.success, "problem": st.warning}

        @st.fragment(run_every=2.0 if smoke.level == "running" else None)
        def smoke_panel() -> None:
            current = smoke_check()
            if current is None:
                return
            SMOKE_BOXES.get(current.level, st.info)(current.text)
            if current.detail:
                st.caption(current.detail)
            if current.level != "running" and smoke.level == "running":
                st.rerun(scope="app")  # stop polling once the check has finished

        smoke_panel()

navigation.run()
