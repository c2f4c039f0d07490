"""Prompt-processing cost: what makes llama.cpp reuse a candidate's prefix instead of evaluating it again.

- Rendering: every call of one candidate shares everything but the example's own input (system
  prompt, few-shot turns, and the user turn up to its first variable), byte for byte.
- Scheduling: ``CandidateQueues`` gives each worker whole candidates, so a candidate's calls follow
  one another in one slot; the engine uses it (no two calls of one candidate in flight at once
  while another candidate waits).
- The client asks llama.cpp's native server for ``cache_prompt`` and sends other servers nothing new.
The measured effect on the real server is ``bench/prefill.py``'s (no timing here).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from conftest import FAST_RETRY, GOLDEN_K8S
from fake_openai import FakeLLM

from optimizer.evaluate.engine import CandidateQueues, WorkItem, execute
from optimizer.evaluate.runner import (
    RunRequest,
    create_run,
    load_task_dataset,
    plan_run,
)
from optimizer.prompts.templates import MessageRenderer, load_template
from optimizer.search.space import (
    enumerate_candidates,
    load_search_space,
    search_space_path,
)
from optimizer.serving.client import LLMClient
from optimizer.serving.endpoint import model_identity
from optimizer.tasks.spec import load_task

ROOT = Path(__file__).resolve().parent.parent
TASKS = ["k8s_log_analysis", "intent_parsing", "query_routing"]


def chat_text(messages: list[dict[str, str]]) -> str:
    """The messages laid out as a ChatML chat template does, which is what the server tokenizes."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def shared_length(first: str, second: str) -> int:
    return len(os.path.commonprefix([first, second]))


def assert_only_the_input_differs(renderer: MessageRenderer, inputs_a: dict, inputs_b: dict) -> None:
    a, b = renderer.render(inputs_a), renderer.render(inputs_b)
    assert a[:-1] == b[:-1], f"{renderer.template.id}: turns before the last differ between two examples"
    # The last user turn: its text before the first variable is shared too, and the two texts
    # first differ no earlier than where the user template's first variable is rendered.
    before_variable = renderer.template.user.split("{{", 1)[0].strip()
    last_a, last_b = chat_text(a[-1:]), chat_text(b[-1:])
    assert last_a.startswith(f"<|im_start|>user\n{before_variable}")
    assert shared_length(last_a, last_b) >= len(f"<|im_start|>user\n{before_variable}")
    assert shared_length(chat_text(a), chat_text(b)) >= len(chat_text(a[:-1])) + len(f"<|im_start|>user\n{before_variable}")


@pytest.mark.parametrize("task_name", TASKS)
def test_every_candidate_of_a_space_shares_all_but_the_example_input(task_name: str) -> None:
    task = load_task(task_name)
    dataset = load_task_dataset(task)
    first, second = dataset.split("validation")[:2]
    candidates = enumerate_candidates(load_search_space(search_space_path(task)), task, dataset)
    with_demos = [candidate for candidate in candidates if candidate.template.examples]
    assert with_demos, f"{task_name}: the space has no few-shot candidate to check"
    for candidate in candidates[:: max(1, len(candidates) // 12)] + with_demos[:3]:
        renderer = MessageRenderer(candidate.template)
        assert renderer._prefix is not None, f"{task_name}: the system prompt reads a per-example variable"
        assert_only_the_input_differs(renderer, first.inputs, second.inputs)
    # What is shared is most of a few-shot prompt: the part a slot can keep.
    renderer = MessageRenderer(with_demos[0].template)
    whole = chat_text(renderer.render(first.inputs))
    assert shared_length(whole, chat_text(renderer.render(second.inputs))) > 0.5 * len(whole)


@pytest.mark.parametrize("path", sorted((ROOT / "prompt_templates").glob("*_v1.yaml")), ids=lambda path: path.stem)
def test_shipped_templates_keep_the_per_example_part_last(path: Path) -> None:
    template = load_template(path)
    renderer = MessageRenderer(template)
    assert renderer._prefix is not None, f"{path.name}: the system prompt reads a per-example variable"
    required = {name: f"value A of {name}" for name in template.variables() if name not in template.inputs.optional}
    other = {name: f"value B of {name}" for name in required}
    assert_only_the_input_differs(renderer, required, other)


def test_a_variable_in_the_system_prompt_is_caught() -> None:
    template = load_template(ROOT / "prompt_templates" / "k8s_log_analysis_v1.yaml")
    broken = template.model_copy(update={"system": "Time range {{ time_range }}. " + template.system})
    renderer = MessageRenderer(broken)
    assert renderer._prefix is None
    with pytest.raises(AssertionError, match="turns before the last differ"):
        assert_only_the_input_differs(renderer, {"logs": "a", "time_range": "1h"}, {"logs": "b", "time_range": "2h"})


def items(candidates: int, per_candidate: int) -> list[WorkItem]:
    return [WorkItem(f"c{c}", None, f"e{e}") for c in range(candidates) for e in range(per_candidate)]  # type: ignore[arg-type]


def drain(queues: CandidateQueues, workers: int) -> dict[int, list[WorkItem]]:
    """Workers ask in turn (as equal-latency calls would), until none gets anything."""
    given: dict[int, list[WorkItem]] = {worker: [] for worker in range(workers)}
    active = set(given)
    while active:
        for worker in sorted(active):
            item = queues.next(worker)
            if item is None:
                active.discard(worker)
            else:
                given[worker].append(item)
    return given


def test_each_candidate_goes_to_one_worker_when_there_are_enough_candidates() -> None:
    work = items(4, 5)
    given = drain(CandidateQueues(work), workers=2)
    assert sorted(id(item) for got in given.values() for item in got) == sorted(map(id, work))  # each item exactly once
    loads = {(worker, item.candidate_id) for worker, got in given.items() for item in got}
    assert len(loads) == 4  # one prefix per candidate; a shared queue would make it 8
    for got in given.values():
        order = [item.candidate_id for item in got]
        assert order == sorted(order, key=order.index)  # a worker finishes a candidate before the next


def test_idle_workers_split_the_last_candidate_so_the_slots_stay_busy() -> None:
    work = items(1, 8)
    given = drain(CandidateQueues(work), workers=3)
    assert sorted(id(item) for got in given.values() for item in got) == sorted(map(id, work))
    assert all(given.values())  # every worker got a share of the one candidate
    assert given[0][0].example == "e0"


def test_a_retiring_worker_hands_its_candidate_back() -> None:
    work = items(2, 4)
    queues = CandidateQueues(work)
    assert queues.next(0).candidate_id == "c0"
    queues.release(0)
    rest = drain(queues, workers=1)[0]
    assert [item.candidate_id for item in rest] == ["c0"] * 3 + ["c1"] * 4


def test_the_engine_runs_one_call_per_candidate_at_a_time(store) -> None:
    fake = FakeLLM(GOLDEN_K8S, slots=2, delay_s=0.02)
    in_flight: dict[str, int] = {}
    peaks: list[int] = []
    inner = fake.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/chat/completions":
            return await inner.handle_async_request(request)
        prefix = json.dumps(json.loads(request.content)["messages"][:-1])
        in_flight[prefix] = in_flight.get(prefix, 0) + 1
        peaks.append(in_flight[prefix])
        try:
            return await inner.handle_async_request(request)
        finally:
            in_flight[prefix] -= 1

    client = LLMClient("http://fake.invalid", transport=httpx.MockTransport(handler), retry=FAST_RETRY, request_deadline_s=5)
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=4, n_examples=4, seed=1,
                               include_baseline=False, use_cache=False))

    async def scenario() -> None:
        info = await client.server_info()
        run_id = create_run(store, plan, info, model_identity(info))
        await execute(store=store, run_id=run_id, task=plan.task, templates=plan.templates, examples=plan.examples,
                      client=client, model_identity=model_identity(info), concurrency=2, sampling_overrides={},
                      seed=0, use_cache=False)
        await client.aclose()

    asyncio.run(scenario())
    prefixes = {json.dumps(call["messages"][:-1]) for call in fake.calls}
    assert len(fake.calls) == 16 and len(prefixes) == 4
    assert max(peaks) == 1  # a shared queue sends a candidate's first two calls to both slots at once


def test_the_client_asks_llama_cpp_for_prompt_cache_reuse_and_others_for_nothing_new() -> None:
    async def first_body(fake: FakeLLM) -> dict:
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            await client.server_info()
            await client.chat([{"role": "user", "content": "hi"}])
        return fake.calls[0]

    assert asyncio.run(first_body(FakeLLM(GOLDEN_K8S)))["cache_prompt"] is True  # /props: llama.cpp
    assert "cache_prompt" not in asyncio.run(first_body(FakeLLM(GOLDEN_K8S, slots=None)))  # no /props
