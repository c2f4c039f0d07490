"""Run vs run: one candidate in two runs (two models, two server settings), paired on shared examples."""

from __future__ import annotations

import streamlit as st

from optimizer.analysis.run_vs_run import run_setting, run_vs_run, shared_candidates
from views.common import get_store

st.title("Run vs run")
store = get_store()
runs = store.list_runs()
if len(runs) < 2:
    st.info("Two runs of a task are needed: run the same candidates again with another model or server setting.")
    st.stop()
by_id = {run.id: run for run in runs}
left, right = st.columns(2)
run_a = left.selectbox("Run A (reference)", list(by_id), index=1, key="rvr_a",
                       format_func=lambda run_id: f"{run_id} · {by_id[run_id].task} · {by_id[run_id].status}")
same_task = [run.id for run in runs if run.task == by_id[run_a].task and run.id != run_a]
if not same_task:
    st.info(f"No other run of task {by_id[run_a].task}.")
    st.stop()
run_b = right.selectbox("Run B", same_task, key="rvr_b",
                        format_func=lambda run_id: f"{run_id} · {by_id[run_id].status}")
left.caption(run_setting(by_id[run_a]))
right.caption(run_setting(by_id[run_b]))

shared = shared_candidates(store, run_a, run_b)
if not shared:
    st.warning("The two runs share no scored candidate (a candidate is the same when its prompt is the same).")
    st.stop()
candidate_id = st.selectbox(f"Candidate ({len(shared)} in both runs)", shared, key="rvr_candidate")
result = run_vs_run(store, run_a, run_b, candidate_id)
st.markdown(f"**{candidate_id}**: {result.sentence()}")
st.dataframe(result.fields, hide_index=True, key="rvr_fields",
             column_config={name: st.column_config.NumberColumn(format="%.3f") for name in ("run A", "run B", "B - A")})
only_changed = st.toggle("Only examples whose score changed", key="rvr_changed")
shown = result.examples[result.examples["changed"]] if only_changed else result.examples
st.dataframe(shown, hide_index=True, width="stretch", row_height=90, key="rvr_examples",
             column_config={"output A": st.column_config.TextColumn(width="large"),
                            "output B": st.column_config.TextColumn(width="large")})
