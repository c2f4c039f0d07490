"""What the sidebar shows about the model server, and starting the embedded one in the background.

The embedded server is started as its own process (``workbench model serve``) so it outlives the
Streamlit script run that asked for it; its state file tells every page where it is.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import httpx

from .endpoint import current_server_url
from .llama_server import state_file
from .paths import repo_root, workbench_home
from .store import RunStore


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


def server_status(store: RunStore | None = None, url: str | None = None, timeout_s: float = 1.5) -> ServerStatus:
    url = url or current_server_url()
    tokens_per_s = measured_tokens_per_s(store) if store is not None else None
    if not url:
        return ServerStatus(None, False, tokens_per_s=tokens_per_s, problem="no server configured or running")
    try:
        models = httpx.get(url.rstrip("/") + "/v1/models", timeout=timeout_s).json()
        model = str(models["data"][0]["id"]) if models.get("data") else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return ServerStatus(url, False, tokens_per_s=tokens_per_s, problem=f"{type(exc).__name__}")
    slots = None
    try:
        props = httpx.get(url.rstrip("/") + "/props", timeout=timeout_s)
        if props.status_code == 200:
            slots = int(props.json().get("total_slots") or 0) or None
    except (httpx.HTTPError, ValueError):
        pass
    return ServerStatus(url, True, model, slots or 1, tokens_per_s)


def launch_embedded_server(port: int = 8080) -> subprocess.Popen[bytes]:
    """Start ``workbench model serve`` detached from the caller; it writes its state file when up."""
    log_dir = workbench_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "model-serve.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "optimizer.cli", "model", "serve", "--port", str(port)],
            cwd=repo_root(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def embedded_server_starting() -> bool:
    return not state_file().exists() and (workbench_home() / "logs" / "model-serve.log").exists()
