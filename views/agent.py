"""Agent page: investigate a simulated cluster step by step, and compare configurations (A/B)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.agent.config import named_config
from optimizer.agent.harness import load_report, run_ab_at, save_report, select_scenarios, table_rows
from optimizer.agent.loop import investigate_at
from optimizer.agent.scenarios import load_scenarios, neutral_choices
from optimizer.agent.trace import step_signals
from optimizer.serving.endpoint import current_server_url
from optimizer.errors import WorkbenchError

SIGNAL_WIDGETS = {"note": st.caption, "requested": st.caption, "mapped": st.info, "fallback": st.warning, "refused": st.error}

st.title("Kubernetes investigation agent")
scenarios = load_scenarios()
by_id = {scenario.id: scenario for scenario in scenarios}
url = current_server_url()
if url is None:
    st.warning("No model server is running: start the embedded one in the sidebar.")

investigate_tab, ab_tab = st.tabs(["Investigate", "A/B: baseline vs optimized"])

def draw_step(step) -> None:
    with st.expander(f"Step {step.number} · {step.state} · {step.tool_call or 'no tool call'}", expanded=True):
        st.markdown("**Raw model output**")
        st.code(step.raw_output or "(no model call)", language=None)
        st.markdown(f"**Enforced tool call:** `{step.tool_call or 'none'}`")
        for kind, text in step_signals(step):
            SIGNAL_WIDGETS[kind](f"{kind.capitalize()}: {text}")
        if step.tool_call:
            st.markdown("**Tool output (as the model sees it)**")
            st.code(step.tool_output, language=None)


with investigate_tab:
    labels = dict((scenario_id, label) for label, scenario_id in neutral_choices(scenarios))
    scenario_id = st.selectbox("Scenario (a simulated cluster)", list(labels), format_func=labels.get, key="agent_scenario")
    question = st.text_input("Question (or type your own)", value=by_id[scenario_id].question, key=f"agent_question_{scenario_id}")
    config_name = st.radio("Configuration", ["optimized", "baseline"], horizontal=True, key="agent_config")
    investigation = st.session_state.get("agent_investigation")
    if st.button("Run investigation", key="agent_run", type="primary", disabled=url is None):
        st.session_state.pop("agent_investigation", None)
        try:  # each step is drawn as soon as it finishes
            investigation = investigate_at(url, by_id[scenario_id], named_config(config_name), question=question, on_step=draw_step)
            st.session_state["agent_investigation"] = investigation
        except WorkbenchError as exc:
            st.error(str(exc))
            investigation = None
    elif investigation is not None:
        for step in investigation.steps:
            draw_step(step)
    if investigation is not None:
        st.caption(f"{investigation.config_name} · {len(investigation.steps)} steps · "
                   f"{investigation.prompt_tokens + investigation.completion_tokens:,} tokens · {investigation.stop_reason}")
        answer = investigation.answer
        if answer is None:
            st.error(f"No answer: {investigation.stop_reason}")
        elif investigation.answered_by == "model":
            st.success(f"ROOT CAUSE: {answer.root_cause}  \nCULPRIT: {answer.culprit}  \n(answered by the model)")
        else:
            st.warning(f"Written by the deterministic {investigation.answered_by}, not the model: ROOT CAUSE: {answer.root_cause}  \n"
                       f"CULPRIT: {answer.culprit}", icon=":material/build:")

with ab_tab:
    count = st.number_input("Scenarios (spread over categories)", min_value=1, max_value=len(scenarios), value=min(6, len(scenarios)),
                            key="agent_ab_count")
    if st.button("Run A/B", key="agent_ab_run", disabled=url is None):
        with st.spinner("Running both configurations over the scenarios..."):
            try:
                report = run_ab_at(url, select_scenarios(scenarios, int(count)), [named_config("baseline"), named_config("optimized")])
                save_report(report)
                st.session_state["agent_ab_report"] = report
            except WorkbenchError as exc:
                st.error(str(exc))
    report = st.session_state.get("agent_ab_report") or load_report()
    if report is None:
        st.info("No A/B run yet: run one here or with `workbench agent ab`.")
    else:
        st.dataframe(pd.DataFrame(table_rows(report)).set_index("metric"), width="stretch")
        st.caption(f"{len(report.scenario_ids)} scenarios · model {report.model or '?'} · {report.wall_s:.0f}s · {report.created_at}")
        outcomes = pd.DataFrame([vars(outcome) for outcome in report.outcomes])
        st.dataframe(outcomes[["config_name", "scenario_id", "success", "steps", "answered_by", "root_cause", "culprit"]],
                     width="stretch", hide_index=True)
