"""The Compare page's human review: thumbs up/down, a 0-1 score and a comment per output."""

from __future__ import annotations

import streamlit as st

from optimizer.analysis.compare import RunData, outputs_for_review
from optimizer.errors import WorkbenchError
from optimizer.evaluate.reviews import save_review
from optimizer.evaluate.store import RunStore

VERDICTS = {"no verdict": None, ":material/thumb_up: good": 1, ":material/thumb_down: bad": -1}


def review_panel(store: RunStore, data: RunData, candidate_ids: list[str], example_ids: list[str], reviews) -> None:
    st.subheader("Human review")
    if not example_ids:
        st.info("No examples under this filter.")
        return
    example_id = st.selectbox("Example to review", example_ids, key=f"review_example::{data.run_id}")
    for column, row in zip(st.columns(len(candidate_ids)), outputs_for_review(data, candidate_ids, example_id, reviews)):
        key = f"{data.run_id}::{row['candidate_id']}::{example_id}"
        with column, st.form(f"review::{key}", border=True):
            st.markdown(f"**{row['label']}** · overall {row['overall'] if row['overall'] is None else format(row['overall'], '.2f')}")
            st.code(row["output"] or "(no output)", language=None, wrap_lines=True)
            verdicts = list(VERDICTS)
            verdict = st.radio("Verdict", verdicts, index=list(VERDICTS.values()).index(row["thumb"]), horizontal=True,
                               key=f"thumb::{key}")
            score = st.number_input("Score (0-1, optional)", min_value=0.0, max_value=1.0, value=row["score"], step=0.1,
                                    key=f"score::{key}")
            comment = st.text_area("Comment", value=row["comment"], key=f"comment::{key}", height=68)
            if st.form_submit_button("Save review"):
                try:
                    save_review(store, data.run_id, row["candidate_id"], example_id, thumb=VERDICTS[verdict], score=score,
                                comment=comment)
                    st.session_state["review_saved"] = f"Saved the review of {row['label']} on {example_id}"
                    st.rerun()
                except WorkbenchError as exc:
                    st.error(str(exc))
    if st.session_state.get("review_saved"):
        st.success(st.session_state.pop("review_saved"))
