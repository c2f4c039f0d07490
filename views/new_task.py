"""New task: upload labelled examples (JSONL) and your prompt; the workbench infers the task, writes
the spec, a baseline template, a starter search space and a copy of the data, and validates them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from optimizer.errors import WorkbenchError
from optimizer.search.starter import create_task
from optimizer.tasks.init import infer_task

st.title("New task")
st.markdown("Bring your own labelled examples, one JSON object per line: either "
            '`{"text": ..., "label": ...}` (also `answer`, `target`, `output`) or the golden format with an '
            '`expected` object. `id` and `split` are optional (30% train, 20% test, the rest validation).')
name = st.text_input("Task name (lower case, digits, underscores)", key="new_task_name")
upload = st.file_uploader("Examples (JSONL)", type=["jsonl", "json", "txt"], key="new_task_file")
prompt = st.text_area("Your prompt (plain instruction, or a user turn with {{ field }} placeholders)",
                      key="new_task_prompt", height=120)
outputs = st.text_input("Output keys of flat records (optional, comma-separated; default: inferred)", key="new_task_outputs")
output_keys = [key.strip() for key in outputs.split(",") if key.strip()] or None

if upload is not None and name:
    try:
        draft = infer_task(name, upload.getvalue().decode("utf-8", errors="strict"), upload.name, output_keys=output_keys)
        st.markdown("**Inferred**  \n" + "  \n".join(draft.summary()))
    except (WorkbenchError, UnicodeDecodeError) as exc:
        st.error(str(exc))
        draft = None
    if draft is not None and st.button("Create task", type="primary", key="create_task"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / upload.name
            path.write_bytes(upload.getvalue())
            try:
                created = create_task(name, path, prompt=prompt or None, output_keys=output_keys)
            except WorkbenchError as exc:
                st.error(str(exc))
            else:
                st.success(f"Created task {name}: {created.candidates} candidates in the starter search space. "
                           "Open Search space to look at it, or Run to score it.")
                st.code("\n".join(str(path) for path in created.files), language=None)
