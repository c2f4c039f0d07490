"""Compare: candidates side by side (prompts, diffs, metrics with CIs, per-example outputs), the
whole run's leaderboard, factor effects and cost/quality trade-offs, and export of a winner."""

from __future__ import annotations

import streamlit as st

from optimizer.analysis.charts import factor_effect_chart, metric_bars, pareto_chart
from optimizer.analysis.compare import (
    EXAMPLE_FILTERS, candidate_label, default_selection, dimension_levels, example_table, factor_dimensions, factor_effects,
    field_intervals, filter_by_levels, filter_examples, leaderboard_with_factors, load_run_summary, output_columns,
    paired_against, pareto_members, rendered_prompt, with_rows,
)
from optimizer.analysis.diffing import prompt_diff_html
from optimizer.analysis.lineage import candidate_lineage
from optimizer.analysis.search_curve import score_vs_calls, score_vs_calls_chart
from optimizer.analysis.board import run_board
from optimizer.analysis.references import merge_flags, perfect_scores
from optimizer.errors import WorkbenchError
from optimizer.evaluate.reviews import reviews_version, run_reviews
from optimizer.evaluate.runner import load_run_dataset
from views.common import get_store
from views.export_panel import export_panel
from views.review_panel import review_panel

st.title("Compare")
store = get_store()
runs = store.list_runs()
if not runs:
    st.info("No runs yet: start one on the Run page.")
    st.stop()

run_ids = [run.id for run in runs]
run_id = st.selectbox("Run", run_ids, index=run_ids.index(st.session_state["active_run"]) if st.session_state.get("active_run") in run_ids else 0,
                      key="compare_run")


@st.cache_resource(show_spinner="Loading run...", max_entries=4)  # shared, read-only: no copy per rerun
def cached_run_data(run_id: str, evaluations: int, reviews: tuple):
    return load_run_summary(get_store(), run_id)  # no evaluation rows: those of the candidates shown come below


data = cached_run_data(run_id, store.count_evaluations(run_id), reviews_version(store))
if not data.example_ids:
    st.info("This run has no evaluations yet.")
    st.stop()
run = store.get_run(run_id)
try:
    dataset = load_run_dataset(run)  # the task's dataset, or the run's one-off --dataset file
except WorkbenchError as exc:
    st.error(str(exc))
    st.stop()
examples = {example.id: example for example in dataset.examples}

flags = run_board(store, run_id)  # trivial references, verdicts, collapse flags (kept in the store)
flag_rows = flags.set_index("candidate_id")
ids = list(data.leaderboard["candidate_id"])
selected = st.multiselect("Candidates (2-4; the first is the reference)", ids, default=default_selection(data, 2),
                          format_func=lambda cid: candidate_label(data, cid), max_selections=4, key=f"compare_candidates::{run_id}")
if len(selected) < 2:
    st.info("Pick at least two candidates.")
    st.stop()
data = with_rows(store, data, selected)  # the evaluations (and outputs) of the candidates shown, not the whole run

st.subheader("Prompts")
example_ids = list(data.example_ids)
shown_example = st.selectbox("Render on example", example_ids, key="compare_example")
reference_system, reference_user = rendered_prompt(data.templates[selected[0]], examples[shown_example].inputs)
lineage = candidate_lineage(store, run_id)  # origin and parents of each candidate
for column, candidate_id in zip(st.columns(len(selected)), selected):
    system, user = rendered_prompt(data.templates[candidate_id], examples[shown_example].inputs)
    with column:
        st.markdown(f"**{candidate_label(data, candidate_id)}**")
        st.caption(", ".join(f"{k}={v}" for k, v in data.factors.get(candidate_id, {}).items()))
        st.caption(lineage.get(candidate_id, ""))
        st.html(prompt_diff_html(reference_system + "\n\n[user]\n" + reference_user, system + "\n\n[user]\n" + user))

st.subheader("Metrics")
st.vega_lite_chart(metric_bars(field_intervals(data, selected)), key="metric_bars", width="stretch")
for candidate_id in selected:
    if flag_rows.loc[candidate_id, "collapsed"]:
        st.warning(f"{candidate_label(data, candidate_id)} is degenerate: its answers collapse to {flag_rows.loc[candidate_id, 'collapsed']}")
    st.caption(f"{candidate_label(data, candidate_id)} vs the trivial references: {flag_rows.loc[candidate_id, 'vs_trivial']}")
for candidate_id in selected[1:]:
    comparison = paired_against(data, candidate_id, selected[0])
    st.markdown(f"**{candidate_label(data, candidate_id)}** vs **{candidate_label(data, selected[0])}**: {comparison.sentence()}")

st.subheader("Per example")
choice = st.radio("Show", list(EXAMPLE_FILTERS), horizontal=True, key="example_filter")
reviews = run_reviews(store, run_id, selected)
table = example_table(data, selected, {example_id: example.expected for example_id, example in examples.items()},
                      perfect_scores(store, run_id, example_ids), human=reviews)
shown_table = filter_examples(table, choice)
st.dataframe(shown_table, hide_index=True, width="stretch", key="example_table", row_height=110,
             column_config={column: st.column_config.TextColumn(width="large") for column in output_columns(table)})
review_panel(store, data, selected, shown_table["example_id"].tolist(), reviews)

# Below the fold and the heaviest part on a large run: computed and drawn only once opened.
whole_run = st.expander("Whole run: leaderboard by factor level, factor effects, Pareto front, score vs calls",
                        key="whole_run", on_change="rerun")
if whole_run.open:
    with whole_run:
        board = merge_flags(leaderboard_with_factors(data), flags)
        dimensions = factor_dimensions(data, board)
        picked = {dimension: column.multiselect(dimension, dimension_levels(board, dimension), key=f"filter::{dimension}")
                  for column, dimension in zip(st.columns(max(len(dimensions), 1)), dimensions)}
        board = filter_by_levels(board, picked)
        st.dataframe(board.rename(columns=lambda name: name.removeprefix("score_")), hide_index=True, width="stretch", key="run_board")
        effects = factor_effects(data)
        if not effects.empty:
            st.vega_lite_chart(factor_effect_chart(effects), key="factor_effects")
        cost = st.radio("Cost axis", ["mean_completion_tokens", "mean_latency_s"], horizontal=True, key="pareto_cost")
        st.vega_lite_chart(pareto_chart(data.leaderboard, cost, cost.replace("_", " ")), key="pareto", width="stretch")
        st.caption("Pareto front: " + ", ".join(pareto_members(data.leaderboard, cost)))
        st.vega_lite_chart(score_vs_calls_chart(score_vs_calls(store, run_id), {cid: candidate_label(data, cid) for cid in ids}),
                           key="score_vs_calls", width="stretch")

export_panel(store, run_id, selected, lambda cid: candidate_label(data, cid),
             {example_id: example.expected for example_id, example in examples.items()})
