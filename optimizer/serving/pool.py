"""Several OpenAI-compatible endpoints serving the same model, used by a run as one client.

``EndpointPool`` has the client's face (``server_info``, ``chat``, ``stats``, ``aclose``), so the
engine and task executors do not know whether one server or eight answer. Its capacity is the sum
of the members' slots (llama.cpp's ``/props``, else the concurrency set for that endpoint, else 1);
each request goes to the live endpoint with the most free slots, and among equals to the one that
last served the same prefix, every turn but the last (llama.cpp keeps that prefix cached in its slots). An endpoint
that stays unreachable after its client's retries is taken out and the request moves to another;
only when none is left does the pool raise ``ServerUnavailableError`` (the engine then pauses).

Every member must serve the same model identity: the response cache and the run's stored model are
keyed by it, so a mix is refused before the first call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from optimizer.config.yamlio import StrictModel, load_yaml_model
from optimizer.errors import ConfigError, ServerUnavailableError
from optimizer.serving.client import CallStats, Completion, LLMClient, ServerInfo
from optimizer.serving.endpoint import client_for, model_identity, open_endpoint


@dataclass(frozen=True)
class EndpointSpec:
    """One entry of ``--url`` or of an endpoints YAML."""

    url: str
    concurrency: int | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)


@dataclass
class _Member:
    client: LLMClient
    concurrency: int | None
    slots: int = 1
    in_flight: int = 0
    last_prefix: str | None = None
    down_reason: str | None = None
    identity: str | None = None

    @property
    def free(self) -> int:
        return self.slots - self.in_flight


class _EndpointEntry(StrictModel):
    url: str
    concurrency: int | None = Field(None, ge=1)
    model: str | None = None
    api_key_env: str | None = None


class _EndpointsFile(StrictModel):
    endpoints: list[_EndpointEntry] = Field(min_length=1)


def load_endpoints_file(path: Path) -> list[EndpointSpec]:
    """Read ``endpoints: [{url, concurrency?, model?, api_key_env?}, ...]``; errors name the line and key.

    Keys are never written in the file: ``api_key_env`` names the environment variable holding one.
    """
    document = load_yaml_model(Path(path), _EndpointsFile)
    specs = []
    for number, entry in enumerate(document.endpoints):
        api_key = None
        if entry.api_key_env:
            api_key = os.environ.get(entry.api_key_env)
            if not api_key:
                raise ConfigError(f"{path}: endpoints.{number}.api_key_env: the environment variable "
                                  f"{entry.api_key_env} is not set")
        specs.append(EndpointSpec(entry.url, entry.concurrency, entry.model, api_key))
    return specs


def _prefix_key(messages: Sequence[dict[str, str]]) -> str:
    """Every turn but the last (system prompt and few-shot turns): the prefix a server's slot keeps."""
    digest = hashlib.blake2b(digest_size=8)
    for message in messages[:-1] if len(messages) > 1 else messages:
        digest.update(message.get("role", "").encode("utf-8") + b"\x00" + message.get("content", "").encode("utf-8") + b"\x01")
    return digest.hexdigest()


@dataclass
class PoolEvents:
    """What happened to the members, for the run's progress note."""

    notes: list[str] = field(default_factory=list)


class EndpointPool:
    """Routes each chat call to the member with the most free slots; drops members that die."""

    def __init__(self, clients: Sequence[LLMClient], concurrency: Sequence[int | None] | None = None) -> None:
        if not clients:
            raise ConfigError("an endpoint pool needs at least one endpoint")
        limits = list(concurrency) if concurrency is not None else [None] * len(clients)
        self.members = [_Member(client, limit, limit or 1) for client, limit in zip(clients, limits)]
        self.events = PoolEvents()
        self.full_capacity = 0  # slots of the endpoints that answered server_info
        self.model = clients[0].model

    @classmethod
    def from_specs(cls, specs: Sequence[EndpointSpec], **client_options: Any) -> "EndpointPool":
        clients = [client_for(spec.url, model=spec.model, api_key=spec.api_key, **client_options) for spec in specs]
        return cls(clients, [spec.concurrency for spec in specs])

    @property
    def alive(self) -> list[_Member]:
        return [member for member in self.members if member.down_reason is None]

    @property
    def capacity(self) -> int:
        """Slots of the endpoints still in the pool."""
        return sum(member.slots for member in self.alive)

    @property
    def base_url(self) -> str:
        return ", ".join(member.client.base_url for member in self.members)

    @property
    def stats(self) -> CallStats:
        total = CallStats()
        for member in self.members:
            part = member.client.stats
            total.in_flight += part.in_flight
            total.calls += part.calls
            total.timeouts += part.timeouts
            total.retries += part.retries
            total.errors += part.errors
            total.answered += part.answered
            total.answered_seconds += part.answered_seconds
            total.last_error = part.last_error or total.last_error
        return total

    async def server_info(self) -> ServerInfo:
        """Probe every member; refuse a mix of models; drop members that do not answer (unless all)."""
        results = await asyncio.gather(*(member.client.server_info() for member in self.members), return_exceptions=True)
        infos: list[tuple[_Member, ServerInfo]] = []
        for member, result in zip(self.members, results):
            if isinstance(result, ServerUnavailableError):
                self._take_out(member, str(result))
            elif isinstance(result, BaseException):
                raise result
            else:
                member.slots = member.concurrency or result.total_slots
                member.identity = model_identity(result)
                infos.append((member, result))
        if not infos:
            raise ServerUnavailableError("no endpoint answers: " + "; ".join(m.down_reason or "" for m in self.members))
        identities = {member.identity for member, _ in infos}
        if len(identities) > 1:
            listed = ", ".join(f"{member.client.base_url} serves {member.identity}" for member, _ in infos)
            raise ConfigError(f"endpoints serve different models ({listed}); one run needs one model identity")
        first = infos[0][1]
        self.full_capacity = sum(member.slots for member, _ in infos)
        return ServerInfo(self.base_url, first.model, sum(member.slots for member, _ in infos), first.kind, first.model_path)

    def _take_out(self, member: _Member, reason: str) -> None:
        if member.down_reason is None:
            member.down_reason = reason
            left = len(self.alive)
            self.events.notes.append(f"endpoint {member.client.base_url} taken out ({reason}); {left} left")

    def _choose(self, prefix: str) -> _Member | None:
        alive = self.alive
        if not alive:
            return None
        return max(alive, key=lambda member: (member.free, member.last_prefix == prefix))

    async def chat(self, messages: Sequence[dict[str, str]], **params: Any) -> Completion:
        prefix = _prefix_key(messages)
        while True:
            member = self._choose(prefix)
            if member is None:
                reasons = "; ".join(f"{m.client.base_url}: {m.down_reason}" for m in self.members)
                raise ServerUnavailableError(f"every endpoint is down ({reasons})")
            member.in_flight += 1
            member.last_prefix = prefix
            try:
                return await member.client.chat(messages, **params)
            except ServerUnavailableError as exc:
                self._take_out(member, str(exc))
            finally:
                member.in_flight -= 1

    async def aclose(self) -> None:
        await asyncio.gather(*(member.client.aclose() for member in self.members))

    async def __aenter__(self) -> "EndpointPool":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@contextlib.asynccontextmanager
async def open_client(
    urls: Sequence[str] = (), endpoints_file: Path | None = None, *, model_path: str | None = None, **client_options: Any
) -> AsyncIterator[LLMClient | EndpointPool]:
    """The client a command runs against: one ``LLMClient`` for one endpoint (or the embedded server
    when none is given), an ``EndpointPool`` for several or when an endpoint sets its concurrency."""
    specs = [EndpointSpec(url) for url in urls] + (load_endpoints_file(endpoints_file) if endpoints_file else [])
    if len(specs) > 1 or any(spec.concurrency for spec in specs):
        async with EndpointPool.from_specs(specs, **client_options) as pool:
            yield pool
        return
    with open_endpoint(specs[0].url if specs else None, model_path=model_path) as endpoint:
        spec = specs[0] if specs else EndpointSpec(endpoint.url)
        async with client_for(endpoint.url, model=spec.model or endpoint.model, api_key=spec.api_key or endpoint.api_key,
                             **client_options) as client:
            yield client
