"""Settings read from the environment, validated by pydantic.

``WORKBENCH_LLM_URL`` points the workbench at any OpenAI-compatible server (llama.cpp, Ollama,
vLLM) instead of the embedded one; ``WORKBENCH_MODEL`` picks another GGUF for the embedded server.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from .llama_server import DEFAULT_SLOTS


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
