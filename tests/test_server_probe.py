"""The sidebar's server probe goes through the client's transport, like every run."""

from __future__ import annotations

import httpx

from optimizer.app.server_status import server_status


def test_probe_reads_model_and_slots_through_the_client_transport() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "/models/SmolLM2-135M-Instruct.Q4_1.gguf"}]})
        return httpx.Response(200, json={"total_slots": 4, "model_path": "/models/SmolLM2-135M-Instruct.Q4_1.gguf"})

    status = server_status(url="http://fake.invalid", transport=httpx.MockTransport(handler))
    assert status.up and status.slots == 4 and status.model == "SmolLM2-135M-Instruct.Q4_1.gguf"  # a name, not a path
    assert seen == ["/v1/models", "/props"]


def test_probe_says_why_a_server_is_down_in_one_line() -> None:
    status = server_status(url="http://fake.invalid", transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    assert not status.up and "no OpenAI-compatible server answers at http://fake.invalid" in status.problem
    shapes = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": [1]}))
    assert "data[0] is not a model object" in server_status(url="http://fake.invalid", transport=shapes).problem
