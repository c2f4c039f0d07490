"""What the sidebar shows about the model server, and starting the embedded one in the background.

The embedded server is started as its own process (``workbench model serve``) so it outlives the
Streamlit script run that asked for it; its state file tells every page where it is.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import httpx

from optimizer.serving.endpoint import current_server_url
from optimizer.serving.llama_server import state_file
from optimizer.config.paths import repo_root, workbench_home
from optimizer.errors import WorkbenchError
from optimizer.evaluate.store import RunStore
from optimizer.serving.endpoint import client_for
from optimizer.serving.client import RetryPolicy, ServerInfo


@dataclass(frozen=True)
class ServerStatus:
    url: str | None
    up: bool
    model: str | None = None
    slots: int | None = None
    tokens_per_s: float | None = None
    problem: str | None = None


def measured_tokens_per_s(store: RunStore, limit: int = 500) -> float | None:
    """Decode speed per request over the most recent uncached evaluations (tokens / latency)."""
    row = store.db.execute(
        "SELECT SUM(completion_tokens), SUM(latency_s) FROM (SELECT completion_tokens, latency_s FROM evaluations"
        " WHERE cached = 0 AND completion_tokens IS NOT NULL AND latency_s > 0 ORDER BY created_at DESC LIMIT ?)",
        (limit,),
    ).fetchone()
    tokens, seconds = row
    return float(tokens) / float(seconds) if tokens and seconds else None


def server_status(store: RunStore | None = None, url: str | None = None, timeout_s: float = 1.5,
                  transport: httpx.AsyncBaseTransport | None = None) -> ServerStatus:
    """Up or down, model and slots, asked through the same client (and transport) runs use."""
    url = url or current_server_url()
    tokens_per_s = measured_tokens_per_s(store) if store is not None else None
    if not url:
        return ServerStatus(None, False, tokens_per_s=tokens_per_s, problem="no server configured or running")

    async def probe() -> ServerInfo:
        async with client_for(url, transport=transport, retry=RetryPolicy(attempts=1), request_deadline_s=timeout_s,
                             connect_timeout_s=timeout_s) as client:
            return await client.server_info()

    try:
        info = asyncio.run(probe())
    except WorkbenchError as exc:
        return ServerStatus(url, False, tokens_per_s=tokens_per_s, problem=str(exc))
    return ServerStatus(url, True, model_display_name(info.model or info.model_path), info.total_slots, tokens_per_s)


def model_display_name(model: str | None) -> str | None:
    """The model's file name, not its absolute path (llama.cpp reports the GGUF path as the id)."""
    if not model:
        return model
    return PurePath(model.replace("\\", "/")).name or model


def free_port(preferred: int = 8080) -> int:
    """``preferred`` when nothing listens there on 127.0.0.1, else a port the OS says is free."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def launch_embedded_server(port: int | None = None) -> subprocess.Popen[bytes]:
    """Start ``workbench model serve`` detached from the caller on a free port (8080 when free);
    it writes its state file, with the URL, when up."""
    port = port or free_port()
    log_dir = workbench_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "model-serve.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "optimizer.app.cli", "model", "serve", "--port", str(port)],
            cwd=repo_root(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def embedded_server_starting() -> bool:
    return not state_file().exists() and (workbench_home() / "logs" / "model-serve.log").exists()


# The smoke check `workbench up` runs in the background once the UI is up ---------------------

SMOKE_TASK = "k8s_log_analysis"


@dataclass(frozen=True)
class SmokeCheck:
    """The last smoke check's outcome, as the sidebar shows it: ``level`` is running, ok or problem."""

    level: str
    text: str
    detail: str = ""


def smoke_state_file() -> Path:
    return workbench_home() / "smoke-check.json"


def _write_smoke(level: str, text: str, detail: str = "") -> None:
    path = smoke_state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"level": level, "text": text, "detail": detail}))
    temporary.replace(path)


def clear_smoke_check() -> None:
    smoke_state_file().unlink(missing_ok=True)


def smoke_check() -> SmokeCheck | None:
    """What the sidebar shows about the smoke check, or None when none ran in this session."""
    try:
        state = json.loads(smoke_state_file().read_text())
        return SmokeCheck(str(state["level"]), str(state["text"]), str(state.get("detail", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def smoke_template(task: Any) -> Any:
    """The task's baseline asked for JSON and held to it by the server's JSON-schema constrained
    decoding, so even the smallest model's answer parses: the check is about the server path."""
    from optimizer.evaluate.runner import baseline_template

    baseline = baseline_template(task)
    properties = {}
    for name, field in task.outputs.items():
        schema: dict[str, Any] = {"type": "string", "maxLength": 120}
        if getattr(field, "choices", None):
            schema = {"type": "string", "enum": list(field.choices)}
        properties[name] = schema
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {
        "type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}}}
    keys = ", ".join(f'"{name}"' for name in properties)
    system = f"{task.description.strip()}\nReply with one JSON object with the keys {keys} and nothing else."
    defaults = {**baseline.model_defaults, "temperature": 0.0, "max_tokens": 128, "response_format": response_format}
    return baseline.model_copy(update={"system": system, "model_defaults": defaults})


async def _smoke_call(url: str, deadline_s: float) -> SmokeCheck:
    from optimizer.evaluate.engine import sampling_params
    from optimizer.evaluate.runner import load_task_dataset
    from optimizer.prompts.templates import render_messages
    from optimizer.serving.client import RetryPolicy
    from optimizer.tasks.spec import load_task

    task = load_task(SMOKE_TASK)
    example = load_task_dataset(task).validation[0]
    template = smoke_template(task)
    messages = render_messages(template, example.inputs)
    async with client_for(url, retry=RetryPolicy(attempts=2), request_deadline_s=deadline_s) as client:
        completion = await client.chat(messages, **sampling_params(template, {}, 0))
    parsed = task.parse(completion.content)
    if parsed.error:
        return SmokeCheck("problem", "smoke check: the answer did not parse", f"{parsed.error}: {completion.content[:200]}")
    _, overall = task.score(example.expected, parsed.fields)
    return SmokeCheck("ok", f"smoke check passed in {completion.latency_s:.1f}s",
                      f"{SMOKE_TASK} example {example.id}: parsed, overall {overall:.2f} ({completion.completion_tokens} tokens)")


def run_smoke_check(url: str, deadline_s: float = 120.0) -> SmokeCheck:
    """One call on one validation example; records running, then the outcome, for the sidebar."""
    import asyncio

    from optimizer.errors import WorkbenchError

    _write_smoke("running", "smoke check running (one example)")
    try:
        result = asyncio.run(_smoke_call(url, deadline_s))
    except WorkbenchError as exc:
        result = SmokeCheck("problem", "smoke check failed", str(exc))
    _write_smoke(result.level, result.text, result.detail)
    return result
