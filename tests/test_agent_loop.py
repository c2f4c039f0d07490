"""The agent loop with scripted replies: enforcer, placeholders, loops, states, fallbacks, context."""

from __future__ import annotations

import asyncio

import pytest
from fake_openai import FakeLLM

from optimizer.agent.config import CHANGES, baseline_config, named_config, optimized_config
from optimizer.agent.loop import Investigation, investigate
from optimizer.agent.protocol import find_placeholder, read_reply
from optimizer.agent.scenarios import load_scenario
from optimizer.agent.tools import ALL_TOOL_NAMES, ToolCall
from optimizer.errors import ConfigError
from optimizer.serving.client import LLMClient
from optimizer.tasks.spec import load_task

from conftest import FAST_RETRY

POD = "checkout-api-6f7c9d8b5-x2x4q"


def run(replies: list[str], config=None, scenario: str = "oom-checkout-api") -> tuple[Investigation, FakeLLM]:
    fake = FakeLLM()
    fake.enqueue(*replies)

    async def go() -> Investigation:
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            return await investigate(client, load_scenario(scenario), config or optimized_config())

    return asyncio.run(go()), fake


@pytest.mark.parametrize(("reply", "call"), [
    ("TOOL: FIND_ISSUES", ToolCall("FIND_ISSUES")),
    ("Sure! First I will check the cluster.\nTOOL: FIND_ISSUES\nThen I will look closer.", ToolCall("FIND_ISSUES")),
    (f"I should run DESCRIBE pod shop {POD} to see why it restarts.", ToolCall("DESCRIBE", ("pod", "shop", POD))),
    (f"tool: `GET_LOGS` shop {POD}.", ToolCall("GET_LOGS", ("shop", POD))),
    ("Let me run `kubectl get events -n shop` now", ToolCall("RUN_KUBECTL", ("get", "events", "-n", "shop"))),
    ("Last result from DESCRIBE:\nI think GET_EVENTS shop", ToolCall("GET_EVENTS", ("shop",))),
])
def test_format_enforcer_extracts_the_call_from_chatty_output(reply: str, call: ToolCall) -> None:
    enforced = read_reply(reply, ALL_TOOL_NAMES, enforce=True)
    assert enforced.call == call
    strict = read_reply(reply, ALL_TOOL_NAMES, enforce=False)
    assert strict.call is None or strict.call == call


def test_answers_and_placeholders_are_recognised() -> None:
    reply = read_reply("The cause is clear.\nANSWER: ROOT CAUSE: OOMKilled, limit too low CULPRIT: Pod shop/x", ALL_TOOL_NAMES, enforce=True)
    assert reply.answer is not None and reply.answer.root_cause == "OOMKilled, limit too low" and reply.answer.culprit == "Pod shop/x"
    assert read_reply("I don't know", ALL_TOOL_NAMES, enforce=True).usable is False
    assert find_placeholder(ToolCall("DESCRIBE", ("pod", "shop", "<pod-name>"))) == "<pod-name>"
    assert find_placeholder(ToolCall("GET_LOGS", ("shop", "podname"))) == "podname"
    assert find_placeholder(ToolCall("DESCRIBE", ("pod", "namespace", POD))) == "namespace"
    assert find_placeholder(ToolCall("RUN_KUBECTL", ("logs", "my-pod", "-n", "shop"))) == "my-pod"
    assert find_placeholder(ToolCall("DESCRIBE", ("pod", "shop", POD))) is None


def test_a_well_behaved_model_goes_through_every_state() -> None:
    investigation, fake = run(["TOOL: FIND_ISSUES", f"TOOL: DESCRIBE pod shop {POD}", f"TOOL: GET_LOGS shop {POD}",
                               f"ANSWER: ROOT CAUSE: container OOMKilled, memory limit too low CULPRIT: Pod shop/{POD}"])
    assert [step.state for step in investigation.steps] == ["DISCOVERY", "INSPECT", "DIAGNOSE", "RESOLVE"]
    assert investigation.answered_by == "model" and "OOMKilled" in investigation.answer.root_cause
    assert not any(step.fallback or step.format_violation for step in investigation.steps)
    # Reduced context: always system + one user turn with the last result and a one-line history.
    assert all(len(call["messages"]) == 2 for call in fake.calls)
    last_prompt = fake.calls[-1]["messages"][1]["content"]
    assert "Tools used so far: FIND_ISSUES, DESCRIBE pod shop" in last_prompt and "Last result from GET_LOGS:" in last_prompt
    assert "Key lines found:" in last_prompt and "OOMKilled" in last_prompt
    assert investigation.content().splitlines() == [
        "Root cause: container OOMKilled, memory limit too low", f"Culprit: Pod shop/{POD}", "Steps: 4", "Answered by: model"]


def test_placeholder_is_reasked_then_falls_back() -> None:
    investigation, fake = run(["TOOL: FIND_ISSUES", "TOOL: DESCRIBE pod shop <pod-name>", f"TOOL: DESCRIBE pod shop {POD}",
                               "TOOL: GET_LOGS shop podname", "TOOL: GET_LOGS shop podname", "no idea"])
    inspect_step, diagnose_step = investigation.steps[1], investigation.steps[2]
    assert inspect_step.placeholder == "<pod-name>" and inspect_step.model_calls == 2
    assert inspect_step.tool_call == f"DESCRIBE pod shop {POD}" and not inspect_step.placeholder_error
    assert "is a placeholder" in fake.calls[2]["messages"][-1]["content"]
    assert diagnose_step.placeholder == "podname" and diagnose_step.fallback.startswith("keyword fallback: logs of pod")
    assert diagnose_step.tool_call == f"GET_LOGS shop {POD}"
    assert investigation.answered_by == "fallback" and "OOMKilled" in investigation.answer.root_cause


def test_loops_are_broken_by_the_fallback_and_only_counted_by_the_baseline() -> None:
    repeat = ["TOOL: FIND_ISSUES"] * 12
    optimized, _ = run(repeat)
    assert optimized.steps[1].fallback and "loop: FIND_ISSUES was already run" in optimized.steps[1].fallback
    assert not any(step.loop for step in optimized.steps)
    baseline, _ = run(["TOOL: CLUSTER_HEALTH"] * 12, baseline_config())
    assert len(baseline.steps) == baseline_config().max_steps and baseline.answer is None
    assert all(step.loop for step in baseline.steps[1:])
    assert baseline.steps[0].mapped_from == "CLUSTER_HEALTH" and baseline.steps[0].tool_call == "FIND_ISSUES"
    assert "step limit" in baseline.stop_reason


def test_baseline_keeps_the_whole_transcript_and_has_no_safety_nets() -> None:
    baseline, fake = run(["Let me check. TOOL: CLUSTER_HEALTH", "TOOL: DESCRIBE_POD shop <pod-name>",
                          "ANSWER: ROOT CAUSE: something CULPRIT: <pod-name>"], baseline_config())
    first, second, third = baseline.steps
    assert first.format_violation and first.tool_call is None and first.fallback is None
    assert second.placeholder_error and second.refused == "argument '<pod-name>' is not a valid Kubernetes name"
    assert third.answer is not None and baseline.answered_by == "model"  # taken as is, placeholder and all
    assert [len(call["messages"]) for call in fake.calls] == [2, 4, 6]
    assert "NEVER" in fake.calls[0]["messages"][0]["content"] and fake.calls[0]["temperature"] == 0.0


def test_ungrounded_answers_and_silence_end_in_an_evidence_based_answer() -> None:
    hallucinated, _ = run(["TOOL: FIND_ISSUES", f"TOOL: DESCRIBE pod shop {POD}",
                           "ANSWER: ROOT CAUSE: the database is down CULPRIT: Pod db/postgres-0"])
    third = hallucinated.steps[2]
    assert any("names no resource seen" in note for note in third.notes)
    assert third.fallback == f"keyword fallback: logs of pod {POD} (because no usable tool call in the reply)"
    assert hallucinated.answered_by == "fallback" and "OOMKilled" in hallucinated.answer.root_cause
    silent, _ = run(["..."] * 12)
    assert silent.answered_by == "fallback" and len(silent.steps) <= 5
    assert [step.state for step in silent.steps][:4] == ["DISCOVERY", "INSPECT", "DIAGNOSE", "RESOLVE"]
    healthy, _ = run(["TOOL: FIND_ISSUES", "ANSWER: ROOT CAUSE: no issue CULPRIT: none"], scenario="healthy-shop")
    assert [step.state for step in healthy.steps] == ["DISCOVERY", "RESOLVE"] and healthy.answered_by == "model"


def test_state_machine_refuses_tools_outside_the_state_and_the_step_limit_forces_an_answer() -> None:
    investigation, _ = run([f"TOOL: GET_LOGS shop {POD}"])
    assert "GET_LOGS is not allowed in state DISCOVERY" in investigation.steps[0].notes[-1]
    assert investigation.steps[0].tool_call == "FIND_ISSUES"
    short = optimized_config().__class__(**{**optimized_config().__dict__, "max_steps": 2})
    limited, _ = run(["TOOL: FIND_ISSUES", f"TOOL: DESCRIBE pod shop {POD}"], short)
    assert [step.state for step in limited.steps] == ["DISCOVERY", "RESOLVE"] and limited.answer is not None


def test_configurations_and_ablations() -> None:
    optimized = named_config("optimized")
    assert optimized.system_prompt.startswith("You investigate problems") and optimized.temperature == 0.1
    assert len(baseline_config().tools) == 12 and len(optimized.tools) == 5
    for change in CHANGES:
        assert named_config(f"optimized-without-{change}") != optimized
    assert named_config("optimized-without-state_machine").state_machine is False
    with pytest.raises(ConfigError, match="unknown configuration"):
        named_config("fastest")


def test_task_parses_the_investigation_content() -> None:
    task = load_task("k8s_agent")
    parsed = task.parse(f"Root cause: container OOMKilled: limit too low\nCulprit: Pod shop/{POD}\nSteps: 4\nAnswered by: model")
    expected = load_scenario("oom-checkout-api").expected.model_dump()
    scores, overall = task.score(expected, parsed.fields)
    assert parsed.ok and scores == {"root_cause": 1.0, "culprit": 1.0, "steps": pytest.approx(8 / 11), "answered_by": 1.0}
    assert overall == pytest.approx(0.3 + 0.6 + 0.1 * 8 / 11)
    wrong, _ = task.score(expected, task.parse("Root cause: DNS\nCulprit: none\nSteps: 2\nAnswered by: model").fields)
    assert wrong == {"root_cause": 0.0, "culprit": 0.0, "steps": 0.0, "answered_by": 0.0}


def test_constrained_decoding_sends_a_grammar_of_what_was_seen() -> None:
    _, fake = run(["TOOL: FIND_ISSUES", f"TOOL: DESCRIBE pod shop {POD}", f"TOOL: GET_LOGS shop {POD}",
                   f"ANSWER: CULPRIT: Pod shop/{POD}\nROOT CAUSE: OOMKilled, the memory limit is too low"])
    discovery, inspect, _, resolve = (call["grammar"] for call in fake.calls)
    assert discovery.startswith('root ::= "TOOL: " call\ncall ::= "FIND_ISSUES" | "LIST_ALL " kind\n')
    assert "object ::=" not in discovery  # nothing to describe before anything was seen
    assert '"DESCRIBE " object' in inspect and f'"pod shop {POD}"' in inspect and "cart-5d8f7b6c9-p2lzr" not in inspect
    assert f'pod ::= "shop {POD}"' not in inspect  # GET_LOGS is not allowed in INSPECT
    assert resolve.startswith('root ::= "ANSWER: CULPRIT: " culprit "\\nROOT CAUSE: " cause')
    assert f'"Pod shop/{POD}"' in resolve and '"none"' not in resolve  # something is broken: "none" is no answer
    _, plain_fake = run(["TOOL: FIND_ISSUES"], named_config("optimized-without-constrained_decoding"))
    assert all("grammar" not in call for call in plain_fake.calls)
    assert all("grammar" not in call for call in run(["x"], baseline_config())[1].calls)


def test_resolve_gathers_more_evidence_when_no_rule_explains_it_yet() -> None:
    replies = ["TOOL: FIND_ISSUES", "TOOL: DESCRIBE deployment payments payments-api", "TOOL: RUN_KUBECTL top nodes", "x", "x", "x"]
    investigation, _ = run(replies, scenario="crashloop-panic-payments")
    assert [step.state for step in investigation.steps] == ["DISCOVERY", "INSPECT", "DIAGNOSE", "RESOLVE", "RESOLVE", "RESOLVE"]
    gathered = [step.tool_call for step in investigation.steps[3:5]]
    assert gathered == ["DESCRIBE pod payments payments-api-7b64c8d5f-5n2rd", "GET_LOGS payments payments-api-7b64c8d5f-5n2rd"]
    assert all(step.fallback.endswith("(because the evidence names no cause yet)") for step in investigation.steps[3:5])
    assert investigation.answered_by == "fallback" and "panic" in investigation.answer.root_cause
