"""Parser page: a command -> its JSON intent; the golden set; A/B of two servers; the query router."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from optimizer.serving.endpoint import current_server_url
from optimizer.errors import WorkbenchError
from optimizer.intents.evaluation import SPLITS, Evaluation, golden_examples, side_by_side
from optimizer.intents.pipeline import MODES, ParserConfig
from optimizer.intents.routing import RouterConfig
from optimizer.intents.session import Backend, evaluate_parser_at, evaluate_router_at, parse_at, route_at

st.title("Micro parser and router")
server_url = current_server_url()
if server_url is None:
    st.info("No model server is running: the parser and the router answer from their rules alone. "
            "Start the embedded server in the sidebar to use the micro model.")


def attempt(work: Callable[[], Any], state_key: str) -> None:
    """Run ``work`` and keep its result for the next reruns; a workbench error is shown, not raised."""
    try:
        st.session_state[state_key] = work()
    except WorkbenchError as exc:
        st.error(str(exc))


def show_evaluation(evaluation: Evaluation) -> None:
    summary = evaluation.summary()
    columns = st.columns(4)
    columns[0].metric("Accuracy", f"{summary['accuracy']:.1%}")
    columns[1].metric("p50 latency", f"{summary['p50_s'] * 1000:.1f} ms")
    columns[2].metric("p95 latency", f"{summary['p95_s'] * 1000:.1f} ms")
    columns[3].metric("Model calls", summary["model_calls"])
    if "schema_valid" in summary:
        st.caption(f"schema-valid outputs: {summary['schema_valid']:.1%}")
    st.markdown(f"**Accuracy by {evaluation.group_name}**")
    st.dataframe(evaluation.by_group(), hide_index=True, width="stretch")
    st.markdown("**By path**")
    st.dataframe(evaluation.by_path(), hide_index=True, width="stretch")
    st.markdown(f"**Confusion matrix of {evaluation.label_name}s** (expected rows, predicted columns)")
    st.dataframe(evaluation.confusion(), width="stretch")
    misses = evaluation.misses()
    st.markdown(f"**Misses: {len(misses)}**")
    if len(misses):
        st.dataframe(misses.astype(str), hide_index=True, width="stretch")


def golden_controls(key: str) -> tuple[str, int | None]:
    split = st.selectbox("Split", SPLITS, key=f"{key}_split")
    limit = st.number_input("Examples (0 = all of the split)", min_value=0, max_value=500, value=0, key=f"{key}_limit")
    return split, int(limit) or None


def side_settings(label: str, key: str, default_mode: str) -> tuple[str | None, str | None, str]:
    st.markdown(f"**{label}**")
    url = st.text_input("Server URL (empty: rules only)", value=server_url or "", key=f"{key}_url").strip() or None
    model = st.text_input("Model name (servers that serve several)", value="", key=f"{key}_model").strip() or None
    mode = st.selectbox("Mode", MODES, index=MODES.index(default_mode), key=f"{key}_mode")
    return url, model, mode


def ab_section(key: str, task_name: str, evaluate: Callable[[str | None, str | None, str, list, str], Evaluation]) -> None:
    """Two sides (server, model, mode) evaluated on the same golden examples, side by side."""
    split, limit = golden_controls(key)
    left, right = st.columns(2)
    with left:
        url_a, model_a, mode_a = side_settings("A", f"{key}_a", "auto")
    with right:
        url_b, model_b, mode_b = side_settings("B", f"{key}_b", "model_only")
    if st.button("Run A/B", key=f"{key}_run"):
        with st.spinner("Evaluating both sides..."):
            def both() -> list[Evaluation]:
                examples = golden_examples(task_name, split, limit)
                return [evaluate(url, model, mode, examples, f"{side}: {mode} @ {url or 'rules'}")
                        for side, url, model, mode in (("A", url_a, model_a, mode_a), ("B", url_b, model_b, mode_b))]

            attempt(both, key)
    if key in st.session_state:
        evaluations = st.session_state[key]
        st.dataframe(side_by_side(evaluations), width="stretch")
        for evaluation in evaluations:
            st.markdown(f"**{evaluation.name}**: accuracy by {evaluation.group_name}")
            st.dataframe(evaluation.by_group(), hide_index=True, width="stretch")


parse_tab, golden_tab, ab_tab, router_tab = st.tabs(["Parse", "Golden set", "A/B", "Router"])

with parse_tab:
    text = st.text_input("Command", value="Add DNS record api.local to 10.0.0.5", key="parser_text")
    mode = st.selectbox("Mode", MODES, key="parser_mode")
    if st.button("Parse", key="parser_parse", type="primary"):
        attempt(lambda: parse_at(Backend(server_url), text, ParserConfig(mode=mode)), "parser_result")
    result = st.session_state.get("parser_result")
    if result is not None:
        st.json(result.intent)
        columns = st.columns(3)
        columns[0].metric("Path", result.path)
        columns[1].metric("Confidence", f"{result.confidence:.2f}")
        columns[2].metric("Latency", f"{result.latency_s * 1000:.1f} ms")
        st.caption(result.reason)
        with st.expander("Details (rules and model answers)"):
            st.json(result.model_dump())

with golden_tab:
    split, limit = golden_controls("parser_golden")
    mode = st.selectbox("Mode", MODES, key="parser_golden_mode")
    if st.button("Evaluate golden set", key="parser_evaluate"):
        with st.spinner("Parsing the golden set..."):
            attempt(lambda: evaluate_parser_at(Backend(server_url), golden_examples("intent_parsing", split, limit),
                                               ParserConfig(mode=mode)), "parser_evaluation")
    if "parser_evaluation" in st.session_state:
        show_evaluation(st.session_state["parser_evaluation"])

with ab_tab:
    st.caption("Compare two servers or models (say the micro model against a general one) on the same golden examples.")
    ab_section("parser_ab", "intent_parsing", lambda url, model, mode, examples, name: evaluate_parser_at(
        Backend(url, model), examples, ParserConfig(mode=mode), name=name))

with router_tab:
    query = st.text_input("Query", value="Run a Monte Carlo on portfolio returns with 10k paths", key="router_query")
    router_mode = st.selectbox("Mode", MODES, key="router_mode")
    if st.button("Route", key="router_route", type="primary"):
        attempt(lambda: route_at(server_url, query, RouterConfig(mode=router_mode)), "router_result")
    routed = st.session_state.get("router_result")
    if routed is not None:
        columns = st.columns(4)
        columns[0].metric("Route", routed.route)
        columns[1].metric("Path", routed.path)
        columns[2].metric("Confidence", f"{routed.confidence:.2f}")
        columns[3].metric("Latency", f"{routed.latency_s * 1000:.1f} ms")
        st.caption(routed.reason)
    st.divider()
    split, limit = golden_controls("router_golden")
    if st.button("Evaluate router golden set", key="router_evaluate"):
        with st.spinner("Routing the golden set..."):
            attempt(lambda: evaluate_router_at(server_url, golden_examples("query_routing", split, limit),
                                               RouterConfig(mode=router_mode)), "router_evaluation")
    if "router_evaluation" in st.session_state:
        show_evaluation(st.session_state["router_evaluation"])
    st.divider()
    st.markdown("**A/B on the router golden set**")
    ab_section("router_ab", "query_routing", lambda url, model, mode, examples, name: evaluate_router_at(
        url, examples, RouterConfig(mode=mode), model=model, name=name))
