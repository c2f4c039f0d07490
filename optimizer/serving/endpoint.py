"""Which server a command talks to, and the model identity that keys stored runs and the cache.

Order: an explicit URL, then ``WORKBENCH_LLM_URL``, then an embedded server already started by
``workbench model serve``, else an embedded server started for the duration of the command.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.config.paths import file_sha256
from optimizer.serving.llama_server import LineCallback, ServerProcess, _print_line, running_embedded_server, start_server
from optimizer.serving.client import LLMClient, ServerInfo
from optimizer.config.paths import cache_dir
from optimizer.config.settings import Settings


@dataclass(frozen=True)
class Endpoint:
    url: str
    managed: ServerProcess | None
    model: str | None = None
    api_key: str | None = None


@contextlib.contextmanager
def open_endpoint(
    url: str | None = None,
    *,
    model_path: str | None = None,
    slots: int | None = None,
    settings: Settings | None = None,
    on_line: LineCallback = _print_line,
) -> Iterator[Endpoint]:
    settings = settings or Settings.from_env()
    chosen_url = url or settings.llm_url
    if chosen_url:
        yield Endpoint(chosen_url, None, settings.llm_model, settings.llm_api_key)
        return
    if model_path is None and settings.model_path is None:
        state = running_embedded_server()
        if state is not None:
            yield Endpoint(str(state["url"]), None)
            return
    gguf = model_path or settings.model_path
    on_line("starting the embedded llama.cpp server for this command")
    server = start_server(Path(gguf) if gguf else None, slots=slots or settings.slots, on_line=on_line)
    try:
        on_line(f"model server ready at {server.url} ({server.kind}, {server.slots} slot(s))")
        yield Endpoint(server.url, server)
    finally:
        server.stop()


def current_server_url(settings: Settings | None = None) -> str | None:
    """The server pages and tools talk to: ``WORKBENCH_LLM_URL``, else a running embedded server."""
    settings = settings or Settings.from_env()
    if settings.llm_url:
        return settings.llm_url
    state = running_embedded_server()
    return str(state["url"]) if state else None


def gguf_sha256(path: Path) -> str:
    """SHA-256 of a GGUF file, memoised on disk by (path, size, mtime): hashing 100 MB takes a while."""
    stat = path.stat()
    memo_path = cache_dir() / "gguf-sha256.json"
    memo_key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if memo_key not in memo:
        memo[memo_key] = file_sha256(path)
        with contextlib.suppress(OSError):
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            memo_path.write_text(json.dumps(memo))
    return memo[memo_key]


def model_identity(info: ServerInfo) -> str:
    """``name.gguf@sha256:<16 hex>`` when the server's GGUF is readable here, else the served model id."""
    if info.model_path:
        path = Path(info.model_path)
        if path.is_file():
            return f"{path.name}@sha256:{gguf_sha256(path)[:16]}"
        return f"{info.kind}:{path.name}"
    return f"{info.kind}:{info.model or 'unknown'}"


def client_for(target: Endpoint | str, **options: Any) -> LLMClient:
    """The one way to open a client: on an endpoint (its URL, served model name and API key) or on a
    plain base URL; ``options`` (model, api_key, retry, deadlines, transport) go to ``LLMClient``."""
    if isinstance(target, Endpoint):
        options = {"model": target.model, "api_key": target.api_key, **options}
        target = target.url
    return LLMClient(target, **options)
