"""Search space: edit dimensions and variants (table or YAML), see the run size, preview a candidate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.errors import WorkbenchError
from optimizer.evaluate.estimate import grid_estimate
from optimizer.evaluate.runner import format_duration, load_task_dataset
from optimizer.search.editing import SpaceDraft, error_excerpt
from optimizer.search.space import candidate_from_factors, save_search_space, search_space_path
from optimizer.tasks.spec import list_tasks, load_task
from optimizer.prompts.templates import render_messages
from views.common import get_store

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
shown_path = str(path.relative_to(path.parents[2]))
# One draft per task is the only copy being edited; the table and the YAML editor both change it.
draft_key, yaml_key = f"space_draft::{task_name}", f"yaml_editor::{task_name}"
if draft_key not in st.session_state:
    st.session_state[draft_key] = SpaceDraft.load(path, shown_path)
draft: SpaceDraft = st.session_state[draft_key]
if yaml_key not in st.session_state:
    st.session_state[yaml_key] = draft.text

file_caption = st.empty()  # filled after the table, which may change the draft
table_tab, yaml_tab = st.tabs(["Variants table", "Raw YAML"])
with table_tab:
    if not draft.valid:
        st.warning("The YAML has an error: the table shows the last valid version, read-only until it is fixed.")
    # The table is drawn from fixed rows per revision, never from its own output, so an edit applies once.
    edited = st.data_editor(pd.DataFrame(draft.table_rows), num_rows="dynamic", width="stretch",
                            key=f"table_editor::{task_name}::{draft.table_revision}", disabled=not draft.valid,
                            column_config={"text": st.column_config.TextColumn(width="large")})
    if draft.apply_table(edited.to_dict("records")):
        st.session_state[yaml_key] = draft.text  # the YAML editor shows the table's edit

with yaml_tab:
    editor_column, numbered_column = st.columns(2)
    editor_column.text_area("YAML", key=yaml_key, height=520, on_change=lambda: draft.set_text(st.session_state[yaml_key]))
    numbered_column.code(draft.text, language="yaml", line_numbers=True, height=520)

file_caption.caption(f"File: `{shown_path}`" + (" · unsaved changes" if draft.unsaved else ""))
if draft.problem:
    st.error(draft.problem)
    excerpt = error_excerpt(draft.text, draft.problem, shown_path)
    if excerpt:
        st.code(excerpt, language=None)
space = draft.last_valid
if not draft.valid:
    st.caption("Counts and preview below are from the last valid text.")

store = get_store()
columns = st.columns(4)
n_examples = columns[0].number_input("Validation examples per candidate", 1, len(dataset.validation),
                                     min(20, len(dataset.validation)), key="space_examples")
estimate = grid_estimate(store, space.size, int(n_examples))
columns[1].metric("Candidates", space.size)
columns[2].metric("Calls (grid)", f"{estimate.calls:,}")
columns[3].metric("Estimated time (grid)", format_duration(estimate.seconds), help=estimate.describe())

if st.button("Save search space", type="primary", key="save_space", disabled=not draft.valid):
    try:
        save_search_space(path, draft.text)
        draft.mark_saved()
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
