"""Run: start a budgeted run that lives outside the page, follow it live, cancel or resume it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.app.background import call_health_lines, effective_status, resume_background_run, run_log_tail, run_state, start_background_run
from optimizer.serving.endpoint import current_server_url
from optimizer.serving.endpoint_input import NO_EXTRA, parse_extra_endpoints
from optimizer.errors import WorkbenchError
from optimizer.analysis.board import run_board
from optimizer.analysis.references import run_references, with_reference_rows
from optimizer.evaluate.leaderboard import live_leaderboard
from optimizer.evaluate.estimate import estimate_plan
from optimizer.evaluate.runner import RunRequest, describe_estimate, format_duration, plan_run
from optimizer import plugins
from optimizer.tasks.sampling import describe_selection
from optimizer.tasks.spec import list_tasks
from views.common import get_store

st.title("Run")
store = get_store()

with st.form("new_run"):
    st.subheader("New run")
    task_names = list_tasks()
    columns = st.columns(4)
    task_name = columns[0].selectbox("Task", task_names, index=task_names.index("k8s_log_analysis") if "k8s_log_analysis" in task_names else 0)
    strategy = columns[1].selectbox("Strategy", plugins.strategies.names(), index=plugins.strategies.names().index("random"))
    max_candidates = columns[2].number_input("Max candidates", 1, 10_000, 10)
    max_calls = columns[3].number_input("Max calls (0 = no cap)", 0, 1_000_000, 0)
    columns = st.columns(4)
    n_examples = columns[0].number_input("Validation examples", 1, 10_000, 20)
    concurrency = columns[1].number_input("Concurrency (0 = server slots)", 0, 64, 0)
    seed = columns[2].number_input("Seed", 0, 1_000_000, 0)
    include_baseline = columns[3].checkbox("Include baseline", True)
    st.caption("gepa, dspy-bootstrap and dspy-mipro write new prompts from the baseline: they need Max calls, which "
               "covers every call (scoring, training answers, proposals). The proposer writes the prompts; blank = the task model.")
    columns = st.columns(2)
    proposer_url = columns[0].text_input("Proposer server URL", "", placeholder="http://127.0.0.1:8081")
    proposer_model = columns[1].text_input("Proposer model", "")
    columns = st.columns(2)
    extra_urls = columns[0].text_area("More servers of the same model: URLs, one per line", "", height=80,
                                      placeholder="http://10.0.0.6:8080\nhttp://10.0.0.7:8080",
                                      help="One run over these and the sidebar's server; all serve the same model")
    endpoints_path = columns[1].text_input("Endpoints YAML", "", placeholder="endpoints.yaml",
                                           help="url, concurrency, model, api_key_env per endpoint (see README)")
    submitted = st.form_submit_button("Start run", type="primary")

if submitted:
    request = RunRequest(task=task_name, strategy=strategy, max_candidates=int(max_candidates),
                         max_calls=int(max_calls) or None, n_examples=int(n_examples), seed=int(seed),
                         include_baseline=include_baseline, proposer_url=proposer_url.strip() or None,
                         proposer_model=proposer_model.strip() or None)
    try:
        extra = parse_extra_endpoints(extra_urls, endpoints_path, main_url=current_server_url())
        plan = plan_run(request)  # preflight here so a bad template is reported on the page
        st.info(describe_estimate(plan, store.seconds_per_call(), estimate_plan(store, plan)))
        run_id, _ = start_background_run(request, store_path=store.path, url=current_server_url(),
                                         concurrency=int(concurrency) or None, extra=extra)
        st.session_state["active_run"] = run_id
        st.session_state[f"endpoints::{run_id}"] = extra  # a resume goes to the same servers
    except WorkbenchError as exc:
        st.error(str(exc))

runs = store.list_runs()
run_ids = [run.id for run in runs]
active = st.session_state.get("active_run")


@st.fragment(run_every=1.0)
def wait_for_start(run_id: str) -> None:
    """The run's process creates it in the store a moment after it starts; redraw when it has."""
    try:
        store.get_run(run_id)
    except WorkbenchError:
        st.info(f"starting run {run_id}...")
        log = run_log_tail(run_id)
        if log:
            st.code(log, language=None)
        return
    st.rerun(scope="app")


if active and active not in run_ids:
    wait_for_start(active)
    st.stop()
if not runs:
    st.info("No runs yet.")
    st.stop()
# The page follows exactly one run, ``active_run`` (the one just started, or the one picked here).
if active in run_ids and st.session_state.get("follow_run") != active:
    st.session_state["follow_run"] = active
selected = st.selectbox("Follow run", run_ids, index=run_ids.index(active) if active in run_ids else 0, key="follow_run",
                        on_change=lambda: st.session_state.update(active_run=st.session_state["follow_run"]))


@st.fragment(run_every=2.0)
def live_view(run_id: str) -> None:
    state = run_state(store, run_id)
    st.markdown(f"Following run `{run_id}` · {state.run.task} · {state.run.strategy}")
    selection = describe_selection(state.run.config.get("example_selection"), state.run.n_examples)
    if selection:
        st.caption(f"examples: {selection}")
    bar = st.empty()  # drawn below, once a click on Cancel has been taken into account
    if state.run.message:
        st.caption(state.run.message)
    for line in call_health_lines(store, state):
        st.caption(line)
    buttons = st.columns(3)
    if state.status == "running" and buttons[0].button("Cancel run", key=f"cancel::{run_id}"):
        store.request_cancel(run_id)
        state = run_state(store, run_id)
    if state.status in ("paused", "cancelled", "interrupted") and buttons[0].button("Resume run", key=f"resume::{run_id}"):
        resume_background_run(run_id, store_path=store.path, url=current_server_url(),
                              extra=st.session_state.get(f"endpoints::{run_id}", NO_EXTRA))
        st.toast("resuming")
    eta = f" · ETA {format_duration(state.eta_s)}" if state.eta_s else ""
    bar.progress(state.fraction, text=f"{state.status} · {state.done}/{state.run.total_evaluations} evaluations{eta}")
    if state.status in ("running", "cancelling..."):
        # one SQL aggregate while the run goes, and the trivial references (cached, no calls) to beat
        table = with_reference_rows(live_leaderboard(store, run_id), run_references(store, run_id))
    else:
        table = run_board(store, run_id)  # with the trivial references, verdicts and flags; kept in the store
        if "is_reference" in table and table["is_reference"].any() and not table["above_trivial"].any():
            st.warning("No candidate is significantly above the trivial references (rows 'ref: ...', computed from the labels).")
    if "overall" in table:
        shown = table.rename(columns=lambda column: column.removeprefix("score_"))
        st.dataframe(shown, hide_index=True, width="stretch", key=f"board::{run_id}::{state.done}")
    log = run_log_tail(run_id)
    if log and state.status != "completed":
        st.code(log, language=None)


live_view(selected)

st.subheader("Past runs")
totals = store.run_totals()
rows = []
for run in runs:
    done, best = totals.get(run.id, (0, None))
    rows.append({"run": run.id, "task": run.task, "strategy": run.strategy, "status": effective_status(run),
                 "done": f"{done}/{run.total_evaluations}", "best overall": best, "model": run.model_identity,
                 "created": run.created_at})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
