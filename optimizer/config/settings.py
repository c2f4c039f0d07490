"""Settings read from the environment, validated by pydantic.

``WORKBENCH_LLM_URL`` points the workbench at any OpenAI-compatible server (llama.cpp, Ollama,
vLLM) instead of the embedded one; ``WORKBENCH_MODEL`` picks another GGUF for the embedded server.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

# Parallel slots of the embedded llama-server: llama.cpp splits its context between them.
DEFAULT_SLOTS = 8


class Settings(BaseModel):
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    model_path: str | None = None
    slots: int = Field(DEFAULT_SLOTS, ge=1, le=64)

    @classmethod
    def from_env(cls) -> "Settings":
        environ = os.environ
        return cls(
            llm_url=environ.get("WORKBENCH_LLM_URL") or None,
            llm_model=environ.get("WORKBENCH_LLM_MODEL") or None,
            llm_api_key=environ.get("WORKBENCH_LLM_API_KEY") or None,
            model_path=environ.get("WORKBENCH_MODEL") or None,
            slots=int(environ.get("WORKBENCH_SLOTS") or DEFAULT_SLOTS),
        )


REQUEST_TIMEOUT_ENV = "WORKBENCH_REQUEST_TIMEOUT"
RETRIES_ENV = "WORKBENCH_RETRIES"


def call_limits_from_env() -> tuple[float | None, int | None]:
    """Per-call deadline (seconds) and retries after the first attempt, when the environment sets them.

    ``WORKBENCH_REQUEST_TIMEOUT`` / ``WORKBENCH_RETRIES`` (the CLI's ``--request-timeout`` and
    ``--retries`` set them) shorten the wait on a server that accepts and never answers.
    """
    from optimizer.errors import ConfigError

    timeout_text = os.environ.get(REQUEST_TIMEOUT_ENV) or None
    retries_text = os.environ.get(RETRIES_ENV) or None
    timeout = retries = None
    if timeout_text is not None:
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 3600:
            raise ConfigError(f"{REQUEST_TIMEOUT_ENV}: must be seconds between 0 and 3600, got {timeout_text[:40]!r}")
    if retries_text is not None:
        if not retries_text.strip().isdigit() or int(retries_text) > 20:
            raise ConfigError(f"{RETRIES_ENV}: must be a whole number from 0 to 20, got {retries_text[:40]!r}")
        retries = int(retries_text)
    return timeout, retries
