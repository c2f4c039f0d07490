"""The Compare page's export section: explicit target and branch, the review summary, then the diff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from optimizer.config.paths import repo_root
from optimizer.errors import WorkbenchError
from optimizer.evaluate.store import RunStore
from optimizer.export.evidence import export_gaps
from optimizer.export.git import commit_export, prepare_export

TARGETS = ["This workbench's repository", "Another Git repository"]
BRANCH_MODES = ["A new review branch prompts/<task>-v<N> (nothing else changes)", "The target's current branch"]


def export_panel(store: RunStore, run_id: str, candidate_ids: list[str], label: Callable[[str], str],
                 expected: dict[str, dict]) -> None:
    st.subheader("Export a candidate")
    export_id = st.selectbox("Candidate to export", candidate_ids, format_func=label, key="export_candidate")
    target_choice = st.radio("Target repository", TARGETS, horizontal=True, key="export_target")
    if target_choice == TARGETS[0]:
        target = str(repo_root())
        st.caption(f"`{target}`")
    else:
        target = st.text_input("Path of the Git repository (holds prompt_templates/)", key="export_repo")
    branch_mode = st.radio("Commit on", BRANCH_MODES, key="export_branch_mode")
    allow_degenerate = st.checkbox("Export even if its answers collapse to one label (written into the evidence)",
                                   key="export_degenerate")
    gaps = export_gaps(store, run_id, export_id)  # fewer examples than the run, or not separable from the baseline
    if gaps:
        st.warning("Partial evidence: " + "; ".join(gaps) + ".")
    allow_partial = bool(gaps) and st.checkbox("Export although the evidence is partial (written into the evidence)",
                                               key="export_partial")
    if st.button("Prepare export", key="prepare_export", disabled=not target):
        try:
            st.session_state["prepared_export"] = prepare_export(store, run_id, export_id, repo=Path(target), expected=expected,
                                                                 allow_degenerate=allow_degenerate, allow_partial=allow_partial)
        except WorkbenchError as exc:
            st.error(str(exc))
    prepared = st.session_state.get("prepared_export")
    if prepared is None or prepared.template.evaluation["provenance"]["candidate_id"] != export_id:
        return
    new_branch = branch_mode == BRANCH_MODES[0]
    where = f"new branch `{prepared.branch}`" if new_branch else "the current branch"
    st.markdown(f"`{prepared.relative_path}` in `{prepared.repo}` on {where} · commit message: `{prepared.commit_subject}`")
    st.markdown(prepared.review_markdown)
    st.download_button("Download review.md", prepared.review_markdown, file_name="review.md", key="download_review")
    with st.expander("Full file diff (as Git shows it)"):
        st.code(prepared.git_diff, language="diff")
    if st.button("Commit", type="primary", key="commit_export"):
        try:
            result = commit_export(prepared, new_branch=new_branch)
            st.success(f"Committed {prepared.relative_path} on {result.branch} ({result.commit[:12]})")
            if result.push_command:
                st.code(result.push_command, language="bash")
            del st.session_state["prepared_export"]
        except WorkbenchError as exc:
            st.error(str(exc))
