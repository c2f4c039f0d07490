"""Search space: edit dimensions and variants (table or YAML), see the run size, preview a candidate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.errors import WorkbenchError
from optimizer.runner import describe_estimate, format_duration, load_task_dataset
from optimizer.search_space import (
    apply_variants_table, candidate_from_factors, parse_search_space, save_search_space, search_space_path,
    search_space_yaml, variants_table,
)
from optimizer.task import list_tasks, load_task
from optimizer.templates import render_messages
from pages.common import get_store

st.title("Search space")
task_names = list_tasks()
task_name = st.selectbox("Task", task_names, index=task_names.index("k8s_log_analysis") if "k8s_log_analysis" in task_names else 0,
                         key="space_task")
try:
    task = load_task(task_name)
    dataset = load_task_dataset(task)
except WorkbenchError as exc:
    st.error(str(exc))
    st.stop()
path = search_space_path(task)
text_key = f"space_text::{task_name}"
if text_key not in st.session_state:
    st.session_state[text_key] = path.read_text(encoding="utf-8")

st.caption(f"File: `{path.relative_to(path.parents[2])}`")
table_tab, yaml_tab = st.tabs(["Variants table", "Raw YAML"])
space, problem = None, None
try:
    space = parse_search_space(st.session_state[text_key], str(path))
except WorkbenchError as exc:
    problem = str(exc)

with yaml_tab:
    edited_text = st.text_area("YAML", st.session_state[text_key], height=480, key=f"yaml_editor::{task_name}")
    if edited_text != st.session_state[text_key]:
        st.session_state[text_key] = edited_text
        st.rerun()

with table_tab:
    if space is None:
        st.warning("Fix the YAML first; the table shows a valid search space only.")
    else:
        rows = pd.DataFrame(variants_table(space))
        edited = st.data_editor(rows, num_rows="dynamic", width="stretch", key=f"table_editor::{task_name}",
                                column_config={"text": st.column_config.TextColumn(width="large")})
        if not edited.equals(rows):
            try:
                updated = apply_variants_table(space, edited.fillna("").to_dict("records"))
                st.session_state[text_key] = search_space_yaml(updated)
                st.rerun()
            except WorkbenchError as exc:
                st.error(str(exc))

if problem:
    st.error(problem)
    st.stop()

store = get_store()
columns = st.columns(4)
n_examples = columns[0].number_input("Validation examples per candidate", 1, len(dataset.validation),
                                     min(20, len(dataset.validation)), key="space_examples")
calls = space.size * int(n_examples)
seconds_per_call = store.seconds_per_call()
columns[1].metric("Candidates", space.size)
columns[2].metric("Calls (grid)", f"{calls:,}")
per_call = seconds_per_call or 0.6
columns[3].metric("Estimated time (grid)", format_duration(calls * per_call),
                  help="From measured seconds per call" if seconds_per_call else "Default guess: nothing measured yet")

if st.button("Save search space", type="primary", key="save_space"):
    try:
        save_search_space(path, st.session_state[text_key])
        st.success(f"Saved {path.name}")
    except WorkbenchError as exc:
        st.error(str(exc))

st.subheader("Preview a candidate")
factor_columns = st.columns(len(space.dimensions))
factors = {
    dimension.name: factor_columns[index].selectbox(dimension.name, [v.name for v in dimension.variants], key=f"preview::{dimension.name}")
    for index, dimension in enumerate(space.dimensions)
}
example_id = st.selectbox("Golden example", [example.id for example in dataset.validation], key="preview_example")
try:
    candidate = candidate_from_factors(space, task, dataset, factors)
    messages = render_messages(candidate.template, dataset.by_id(example_id).inputs)
except WorkbenchError as exc:
    st.error(str(exc))
else:
    st.caption(f"Candidate `{candidate.id}` · {len(messages)} messages · model defaults {candidate.template.model_defaults}")
    for message in messages:
        st.markdown(f"**{message['role']}**")
        st.code(message["content"], language=None, wrap_lines=True)
