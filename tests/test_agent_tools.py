"""Tools and their guard: read-only kubectl argument lists, legacy mapping, hostile model output."""

from __future__ import annotations

import shlex

import asyncio
import os
import subprocess

import pytest
from fake_openai import FakeLLM

from optimizer.agent.cluster import SimulatedCluster
from optimizer.agent.config import baseline_config, optimized_config
from optimizer.agent.kubectl import CommandRefused, split_command
from optimizer.agent.loop import investigate
from optimizer.agent.render import explicit, reduce
from optimizer.agent.scenarios import load_scenario
from optimizer.agent.tools import ToolCall, run_tool
from optimizer.serving.client import LLMClient

from conftest import FAST_RETRY

ONE_MEGABYTE = "a" * (1 << 20)


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to start a process fails the test loudly."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was spawned: {args[:2]!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", refuse)
    for name in ("system", "popen", "posix_spawn", "posix_spawnp", "fork", "forkpty", "execv", "execve", "execvp", "execvpe",
                 "spawnv", "spawnve", "spawnl"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)


@pytest.mark.parametrize("command", [
    "get pods -A", "kubectl get pods -n shop -o wide", "describe pod checkout-api-6f7c9d8b5-x2x4q -n shop",
    "logs checkout-api-6f7c9d8b5-x2x4q -n shop --tail=20 --previous", "top nodes", "events -A", "api-resources",
    "get deploy,svc -n shop", "get pods -l app=checkout-api -n shop",
])
def test_read_only_commands_pass(command: str) -> None:
    argv = split_command(command)
    # the checked argument list is the command's own words, the optional leading "kubectl" dropped
    assert argv == shlex.split(command.removeprefix("kubectl "))
    assert argv[0] in {"get", "describe", "logs", "top", "events", "api-resources"}


@pytest.mark.parametrize(("command", "reason"), [
    ("kubectl delete pod x", "verb 'delete' is not allowed"),
    ("apply -f x.yaml", "verb 'apply' is not allowed"),
    ("exec -it x -- sh", "verb 'exec' is not allowed"),
    ("get pods; rm -rf /", "shell syntax ';' is refused"),
    ("get pods $(id)", "shell syntax '$' is refused"),
    ("get pods `id`", "shell syntax '`' is refused"),
    ("get pods | sh", "shell syntax '|' is refused"),
    ("get pods > /tmp/x", "shell syntax '>' is refused"),
    ("get pods --kubeconfig=/etc/passwd", "flag '--kubeconfig' is not allowed"),
    ("get pods --server https://evil.example", "flag '--server' is not allowed"),
    ("get pods -o jsonpath={.items}", "shell syntax '{' is refused"),
    ("get pods -o json", "output format 'json' is not allowed"),
    ("get pods ../../etc", "argument '../../etc' is not a valid Kubernetes name"),
    ("get pods -n Shop", "namespace 'Shop' is not a valid Kubernetes name"),
    ('get pods "unclosed', "cannot be split into arguments"),
    ("get pods " + ONE_MEGABYTE, "characters; the limit is 300"),
    ("", "empty command"),
])
def test_anything_else_is_refused_with_a_reason(command: str, reason: str) -> None:
    with pytest.raises(CommandRefused, match=__import__("re").escape(reason)):
        split_command(command)


def test_legacy_tools_become_core_calls() -> None:
    cluster = SimulatedCluster(load_scenario("oom-checkout-api"))
    expectations = {
        ToolCall("CLUSTER_HEALTH"): ToolCall("FIND_ISSUES"),
        ToolCall("GET_EVENTS"): ToolCall("RUN_KUBECTL", ("get", "events", "-A")),
        ToolCall("GET_EVENTS", ("shop",)): ToolCall("RUN_KUBECTL", ("get", "events", "-n", "shop")),
        ToolCall("TOP_PODS"): ToolCall("RUN_KUBECTL", ("top", "pods", "-A")),
        ToolCall("DESCRIBE_POD", ("shop", "checkout-api-6f7c9d8b5-x2x4q")): ToolCall("DESCRIBE", ("pod", "shop", "checkout-api-6f7c9d8b5-x2x4q")),
        ToolCall("POD_LOGS", ("shop", "cart-5d8f7b6c9-p2lzr")): ToolCall("GET_LOGS", ("shop", "cart-5d8f7b6c9-p2lzr")),
        ToolCall("GET_CROSSPLANE"): ToolCall("LIST_ALL", ("crossplane",)),
        ToolCall("GET_WEBHOOKS"): ToolCall("LIST_ALL", ("webhooks",)),
    }
    for legacy, core in expectations.items():
        result = run_tool(cluster, legacy)
        assert result.call == core and result.mapped_from == legacy and result.refused is None
    assert "OOMKilled" in run_tool(cluster, ToolCall("DESCRIBE_POD", ("shop", "checkout-api-6f7c9d8b5-x2x4q"))).output
    refused = run_tool(cluster, ToolCall("DESCRIBE", ("pod", "shop", "<pod-name>")))
    assert refused.refused == "argument '<pod-name>' is not a valid Kubernetes name"


def test_explicit_vocabulary_and_reduction() -> None:
    cluster = SimulatedCluster(load_scenario("oom-checkout-api"))
    listed = explicit(run_tool(cluster, ToolCall("LIST_ALL", ("pods",))).output)
    assert "Item 1: namespace shop, name checkout-api-6f7c9d8b5-x2x4q, ready 0 of 1, status CrashLoopBackOff" in listed
    described = explicit(run_tool(cluster, ToolCall("DESCRIBE", ("pod", "shop", "checkout-api-6f7c9d8b5-x2x4q"))).output)
    assert "Last State reason: OOMKilled" in described and "<none>" not in described and "(x" not in described
    node = explicit(run_tool(cluster, ToolCall("DESCRIBE", ("node", "node-1"))).output)
    reduced = reduce(node, 600)
    assert len(reduced) <= 600 and "more lines not shown" in reduced and "Item 1: type MemoryPressure, status False" in reduced


HOSTILE = [
    ("TOOL: RUN_KUBECTL kubectl delete pod x", "verb 'delete' is not allowed"),
    ("TOOL: RUN_KUBECTL get pods; rm -rf /", "shell syntax ';' is refused"),
    ("TOOL: RUN_KUBECTL get pods $(id)", "shell syntax '$' is refused"),
    ("TOOL: RUN_KUBECTL get pods --kubeconfig=/etc/passwd", "flag '--kubeconfig' is not allowed"),
    ("TOOL: RUN_KUBECTL get pods " + ONE_MEGABYTE, "the limit is 8,000, so it was not read"),
    ("TOOL: RUN_KUBECTL get pods " + "a" * 400, "characters; the limit is 300"),
]


@pytest.mark.parametrize("config_name", ["baseline", "optimized"])
@pytest.mark.parametrize(("reply", "reason"), HOSTILE, ids=["delete", "rm-rf", "subshell", "kubeconfig", "1MB-line", "long-command"])
def test_hostile_model_output_is_refused_in_the_trace_and_spawns_nothing(no_processes: None, config_name: str, reply: str, reason: str) -> None:
    fake = FakeLLM()
    fake.enqueue(reply, reply, "ANSWER: ROOT CAUSE: unknown CULPRIT: none")
    config = baseline_config() if config_name == "baseline" else optimized_config()

    async def go():
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            return await investigate(client, load_scenario("oom-checkout-api"), config)

    investigation = asyncio.run(go())
    first = investigation.steps[0]
    assert first.refused is not None and reason in first.refused
    assert len(first.raw_output) < 5_000  # the 1 MB reply is not stored whole
    if first.tool_call:
        assert first.tool_output.startswith("refused:") or config_name == "optimized"
