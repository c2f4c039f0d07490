"""Overview: what the workbench does, what to do first, the server, the tasks and the latest runs."""

from __future__ import annotations

import streamlit as st

from optimizer.app.overview import FIRST_STEPS, latest_runs, task_overview
from optimizer.app.server_status import server_status
from views.common import get_store

st.title("Prompt Workbench")
st.markdown(FIRST_STEPS)

server, tasks_column = st.columns([1, 2])
with server:
    st.subheader("Model server")
    status = server_status(get_store())
    if status.up:
        st.success(f"up · {status.model} · {status.slots} slot(s)", icon=":material/check_circle:")
    else:
        st.error(f"down: {status.problem}. Start it in the sidebar or with `workbench model serve`.", icon=":material/error:")
with tasks_column:
    st.subheader("Tasks")
    st.dataframe(task_overview(), hide_index=True, width="stretch", key="overview_tasks")

st.subheader("Latest runs")
runs = latest_runs(get_store())
if runs.empty:
    st.info("No runs yet: start one on the Run page.")
else:
    st.dataframe(runs, hide_index=True, width="stretch", key="overview_runs",
                 column_config={"best overall": st.column_config.NumberColumn(format="%.3f"),
                                "trivial reference": st.column_config.NumberColumn(format="%.3f")})
