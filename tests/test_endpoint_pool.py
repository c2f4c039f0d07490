"""Several endpoints in one run: slots add up, routing fills free slots, a dead endpoint's work moves,
different models are refused, and the endpoints YAML reports bad entries by line and key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from fake_openai import FakeLLM
from optimizer.errors import ConfigError, ServerUnavailableError
from optimizer.serving.client import LLMClient
from optimizer.serving.pool import EndpointPool, EndpointSpec, _prefix_key, load_endpoints_file

from conftest import FAST_RETRY, GOLDEN_K8S


def client(fake: FakeLLM, name: str) -> LLMClient:
    return LLMClient(f"http://{name}.invalid", transport=fake.transport(), retry=FAST_RETRY, request_deadline_s=5)


def messages(system: str, user: str = "hello") -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def fire(pool: EndpointPool, n: int, concurrency: int) -> None:
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            await pool.chat(messages(f"prompt {index % 3}", str(index)))

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def test_slots_add_up_and_requests_fill_the_freest_endpoint() -> None:
    small, large = FakeLLM(GOLDEN_K8S, slots=2, delay_s=0.02), FakeLLM(GOLDEN_K8S, slots=6, delay_s=0.02)
    pool = EndpointPool([client(small, "a"), client(large, "b")])

    async def scenario() -> int:
        info = await pool.server_info()
        await fire(pool, 80, info.total_slots)
        return info.total_slots

    assert asyncio.run(scenario()) == 8
    assert len(small.calls) + len(large.calls) == 80
    # Equal latency, 2 vs 6 slots: the larger endpoint takes about three quarters of the work.
    assert 0.6 <= len(large.calls) / 80 <= 0.9


def test_set_concurrency_overrides_a_server_without_props() -> None:
    plain = FakeLLM(GOLDEN_K8S, slots=None)
    pool = EndpointPool([client(plain, "a")], [5])
    assert asyncio.run(pool.server_info()).total_slots == 5


def test_same_system_prompt_stays_on_the_same_endpoint_when_slots_are_equal() -> None:
    first, second = FakeLLM(GOLDEN_K8S), FakeLLM(GOLDEN_K8S)
    pool = EndpointPool([client(first, "a"), client(second, "b")])

    async def scenario() -> None:
        await pool.server_info()
        pool.members[1].last_prefix = _prefix_key(messages("candidate B"))  # b served B before
        for system in ["candidate A", "candidate B"] * 3:
            await pool.chat(messages(system))

    asyncio.run(scenario())
    assert [call["messages"][0]["content"] for call in first.calls] == ["candidate A"] * 3
    assert [call["messages"][0]["content"] for call in second.calls] == ["candidate B"] * 3


def test_dead_endpoint_work_moves_to_the_others_and_pauses_only_when_none_is_left() -> None:
    alive = FakeLLM(GOLDEN_K8S)
    dying = FakeLLM(GOLDEN_K8S)
    dead = {"now": False}
    healthy_transport = dying.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if dead["now"] and request.method == "POST":
            raise httpx.ConnectError("connection refused")
        return await healthy_transport.handle_async_request(request)

    dying_client = LLMClient("http://dying.invalid", transport=httpx.MockTransport(handler), retry=FAST_RETRY)
    pool = EndpointPool([dying_client, client(alive, "alive")])

    async def scenario() -> None:
        await pool.server_info()
        await fire(pool, 20, 8)
        dead["now"] = True
        await fire(pool, 40, 8)  # every one of these is answered: the dying endpoint's calls move

    asyncio.run(scenario())
    assert len(dying.calls) > 0
    assert len(dying.calls) + len(alive.calls) == 60
    assert pool.members[0].down_reason and "ConnectError" in pool.members[0].down_reason
    assert pool.capacity == 4
    assert any("taken out" in note and "1 left" in note for note in pool.events.notes)

    alive_handler = alive.transport()

    async def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError("connection refused")
        return await alive_handler.handle_async_request(request)

    pool.members[1].client = LLMClient("http://alive.invalid", transport=httpx.MockTransport(refuse), retry=FAST_RETRY)
    with pytest.raises(ServerUnavailableError, match="every endpoint is down"):
        asyncio.run(pool.chat(messages("x")))


def test_endpoints_serving_different_models_are_refused() -> None:
    one = FakeLLM(GOLDEN_K8S, model_path="/models/a.gguf")
    other = FakeLLM(GOLDEN_K8S, model_path="/models/b.gguf")
    pool = EndpointPool([client(one, "one"), client(other, "other")])
    with pytest.raises(ConfigError, match="different models.*a.gguf.*b.gguf"):
        asyncio.run(pool.server_info())


def test_endpoint_that_is_down_at_start_is_left_out() -> None:
    up = FakeLLM(GOLDEN_K8S)

    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    down = LLMClient("http://down.invalid", transport=httpx.MockTransport(refuse), retry=FAST_RETRY)
    pool = EndpointPool([down, client(up, "up")])
    info = asyncio.run(pool.server_info())
    assert info.total_slots == 4 and pool.capacity == 4
    assert pool.members[0].down_reason


def test_endpoints_file_loads_and_names_bad_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_BOX_KEY", "secret")
    good = tmp_path / "endpoints.yaml"
    good.write_text("endpoints:\n  - url: http://a:8080\n  - url: http://b:8000\n    concurrency: 8\n    api_key_env: GPU_BOX_KEY\n")
    assert load_endpoints_file(good) == [
        EndpointSpec("http://a:8080"), EndpointSpec("http://b:8000", 8, None, "secret"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("endpoints:\n  - url: http://a:8080\n  - url: http://b:8000\n    slots: 8\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.*4.*slots"):
        load_endpoints_file(bad)
    assert "secret" not in repr(load_endpoints_file(good))
    monkeypatch.delenv("GPU_BOX_KEY")
    with pytest.raises(ConfigError, match="endpoints.1.api_key_env: the environment variable GPU_BOX_KEY is not set"):
        load_endpoints_file(good)
    zero = tmp_path / "zero.yaml"
    zero.write_text("endpoints:\n  - url: http://a:8080\n    concurrency: 0\n")
    with pytest.raises(ConfigError, match="concurrency"):
        load_endpoints_file(zero)


def test_optimize_spreads_one_run_over_repeated_urls_and_an_endpoints_file(tmp_path: Path) -> None:
    from conftest import run_cli
    from optimizer.evaluate.store import RunStore

    first, second, third = (FakeLLM(GOLDEN_K8S, slots=2, delay_s=0.01) for _ in range(3))
    with first.serve() as url_a, second.serve() as url_b, third.serve() as url_c:
        endpoints = tmp_path / "endpoints.yaml"
        endpoints.write_text(f"endpoints:\n  - url: {url_c}\n    concurrency: 3\n")
        store_path = tmp_path / "runs.sqlite"
        result = run_cli("optimize", "--task", "k8s_log_analysis", "--candidates", "3", "--examples", "8",
                         "--url", url_a, "--url", url_b, "--endpoints", str(endpoints), "--store", str(store_path),
                         "--run-id", "spread")
    assert result.returncode == 0, result.stderr
    assert "concurrency 7" in result.stdout
    assert len(first.calls) + len(second.calls) + len(third.calls) == 32
    assert min(len(first.calls), len(second.calls), len(third.calls)) > 0
    with RunStore(store_path) as store:
        run = store.get_run("spread")
        assert run.server_url == f"{url_a}, {url_b}, {url_c}" and run.status == "completed"
        assert store.count_evaluations("spread") == 32


def test_a_run_over_a_pool_finishes_when_one_endpoint_hangs_and_says_so(store) -> None:
    from optimizer.evaluate.leaderboard import evaluations_frame
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
    from optimizer.serving.client import RetryPolicy

    healthy, stuck = FakeLLM(GOLDEN_K8S), FakeLLM(GOLDEN_K8S)
    stuck_transport = stuck.transport()

    async def hang(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await asyncio.sleep(3600)
        return await stuck_transport.handle_async_request(request)

    pool = EndpointPool([
        LLMClient("http://stuck.invalid", transport=httpx.MockTransport(hang), request_deadline_s=0.2,
                  retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.02)),
        client(healthy, "healthy"),
    ])
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=2, n_examples=10, seed=3))
    run_id = asyncio.run(run_plan(store, plan, pool))
    assert store.get_run(run_id).status == "completed"
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 30 and not frame.duplicated(["candidate_id", "example_id"]).any()
    assert len(healthy.calls) == 30
    progress = store.read_progress(run_id)
    assert progress.timeouts >= 2 and "timed out after 0.2s" in progress.last_error
    assert "endpoint http://stuck.invalid taken out" in progress.note and progress.concurrency <= 4


def test_a_set_concurrency_above_the_pool_capacity_is_kept_while_no_endpoint_dies(store) -> None:
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan

    first, second = FakeLLM(GOLDEN_K8S, delay_s=0.01), FakeLLM(GOLDEN_K8S, delay_s=0.01)
    pool = EndpointPool([client(first, "a"), client(second, "b")])
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=1, n_examples=12, seed=3))
    run_id = asyncio.run(run_plan(store, plan, pool, concurrency=12))
    progress = store.read_progress(run_id)
    assert progress.concurrency == 12 and progress.note == ""
