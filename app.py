"""Streamlit entry: the navigation over views/ and the model-server sidebar shown on every page.

The page scripts live in views/, not pages/: Streamlit takes a pages/ folder beside the entry
script for its old multipage layout, so a deep link (/compare) opened first on a fresh server ran
the page script alone, without this navigation and sidebar, and listed every file of the folder."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from views.common import get_store
from optimizer.app.server_status import embedded_server_starting, launch_embedded_server, server_status, smoke_check

st.set_page_config(page_title="Prompt Workbench", layout="wide")

PAGES = [
    ("views/overview.py", "Overview", ":material/home:"),
    ("views/new_task.py", "New task", ":material/add_circle:"),
    ("views/search_space.py", "Search space", ":material/tune:"),
    ("views/run.py", "Run", ":material/play_arrow:"),
    ("views/compare.py", "Compare", ":material/compare:"),
    ("views/run_vs_run.py", "Run vs run", ":material/compare_arrows:"),
    ("views/agent.py", "Agent", ":material/smart_toy:"),
    ("views/parser.py", "Parser", ":material/data_object:"),
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
