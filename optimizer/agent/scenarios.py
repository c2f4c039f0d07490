"""Scenarios: one simulated cluster per YAML file under ``golden/agent_scenarios/``.

A scenario declares namespaces, nodes, pods (containers, their states, logs and probes), events,
any other resources (deployments, PVCs, certificates, Crossplane and Istio objects, webhooks) and
the expected answer: the root cause, the culprit resource, and the words that recognise each in a
free-text answer. Every cluster gets the same healthy base (three nodes, CoreDNS, kube-proxy,
metrics-server) unless the scenario replaces a base object by giving one with the same name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from optimizer.errors import ConfigError
from optimizer.config.paths import repo_root
from optimizer.config.yamlio import StrictModel, load_yaml_model

K8S_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"


class ScenarioError(ConfigError):
    """A scenario file is missing, malformed or inconsistent (e.g. a pod on an unknown node)."""


class Container(StrictModel):
    """One container of a pod: image, state, resources, probes, what it logged."""

    name: str = Field(pattern=K8S_NAME)
    image: str
    state: Literal["running", "waiting", "terminated"] = "running"
    reason: str | None = None
    """Waiting reason (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError) or terminated reason."""
    message: str | None = None
    exit_code: int | None = None
    last_reason: str | None = None
    """Reason of the previous termination (OOMKilled, Error, Completed)."""
    last_exit_code: int | None = None
    ready: bool | None = None
    restarts: int = Field(0, ge=0)
    last_restart: str | None = None
    ports: list[int] = []
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    usage: dict[str, str] = {}
    env: dict[str, str] = {}
    env_from: list[str] = []
    mounts: list[str] = []
    liveness: str | None = None
    readiness: str | None = None
    probe_failure: str | None = None
    """The kubelet's probe failure message; becomes Unhealthy events."""
    pull_error: str | None = None
    """The image pull error; becomes Failed events."""
    logs: str = ""

    @property
    def is_ready(self) -> bool:
        if self.ready is not None:
            return self.ready
        return self.state == "running" and not (self.probe_failure and "Readiness" in self.probe_failure)


class Pod(StrictModel):
    name: str = Field(pattern=K8S_NAME)
    namespace: str = Field(pattern=K8S_NAME)
    phase: Literal["Running", "Pending", "Succeeded", "Failed"] = "Running"
    status: str | None = None
    """What ``kubectl get pods`` shows when it is not derived from the containers (Evicted, Terminating)."""
    node: str | None = None
    age: str = "3d"
    owner: str | None = None
    """``ReplicaSet/<name>``, ``StatefulSet/<name>``, ``DaemonSet/<name>`` or ``Job/<name>``."""
    labels: dict[str, str] = {}
    service_account: str = "default"
    containers: list[Container] = Field(min_length=1)
    claims: list[str] = []
    node_selector: dict[str, str] = {}
    scheduling_error: str | None = None
    """The scheduler's FailedScheduling message for a pod no node can take."""

    @property
    def display_status(self) -> str:
        if self.status:
            return self.status
        if self.phase == "Succeeded":
            return "Completed"
        if self.phase == "Failed":
            return "Error"
        for container in self.containers:
            if container.state == "waiting" and container.reason:
                return container.reason
        for container in self.containers:
            if container.state == "terminated" and container.reason:
                return container.reason
        return "Pending" if self.phase == "Pending" else "Running"

    @property
    def restarts(self) -> int:
        return sum(container.restarts for container in self.containers)


class Condition(StrictModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""
    message: str = ""
    age: str = "10m"


class Node(StrictModel):
    name: str = Field(pattern=K8S_NAME)
    status: Literal["Ready", "NotReady", "Unknown"] = "Ready"
    roles: str = "worker"
    version: str = "v1.29.6"
    age: str = "41d"
    internal_ip: str | None = None
    cpu: str = "4"
    memory: str = "16Gi"
    allocated: dict[str, str] = {}
    usage: dict[str, str] = {}
    conditions: list[Condition] = []
    taints: list[str] = []
    labels: dict[str, str] = {}


class Event(StrictModel):
    namespace: str = "default"
    object: str = Field(pattern=r"^[A-Za-z]+/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    type: Literal["Normal", "Warning"] = "Warning"
    reason: str
    message: str
    count: int = Field(1, ge=1)
    age: str = "2m"
    first_seen: str | None = None
    source: str | None = None


class Resource(StrictModel):
    """Any other object: Deployment, Service, PVC, Certificate, Crossplane or Istio resources, webhooks.

    ``columns`` are what ``kubectl get`` prints after NAME (in order); ``details`` are the
    ``kubectl describe`` lines (nested mappings are indented like kubectl does for custom resources).
    """

    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]+$")
    name: str = Field(pattern=K8S_NAME)
    namespace: str | None = Field(None, pattern=K8S_NAME)
    api_version: str = "v1"
    plural: str | None = None
    short_names: list[str] = []
    categories: list[str] = []
    age: str = "12d"
    labels: dict[str, str] = {}
    columns: dict[str, str] = {}
    details: dict[str, Any] = {}
    conditions: list[Condition] = []
    healthy: bool | None = None
    problem: str | None = None
    """What FIND_ISSUES says about an unhealthy object that has no False condition to show."""

    @property
    def resource_plural(self) -> str:
        if self.plural:
            return self.plural
        lower = self.kind.lower()
        if lower.endswith("y"):
            return lower[:-1] + "ies"
        return lower + ("es" if lower.endswith(("s", "ss")) else "s")


class Expected(StrictModel):
    """The right answer: a root cause and a culprit, and the words that recognise each."""

    root_cause: str
    root_cause_terms: list[str] = Field(min_length=1)
    culprit: str
    culprit_terms: list[str] = Field(min_length=1)


class Scenario(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str
    category: str = Field(pattern=r"^[a-z_]+$")
    question: str
    split: Literal["train", "validation"] = "validation"
    expected: Expected
    namespaces: list[str] = []
    base: bool = True
    nodes: list[Node] = []
    pods: list[Pod] = []
    events: list[Event] = []
    resources: list[Resource] = []

    @model_validator(mode="after")
    def _unique_names(self) -> "Scenario":
        seen: set[tuple[str, str | None, str]] = set()
        for kind, namespace, name in (
            *(("Pod", pod.namespace, pod.name) for pod in self.pods),
            *(("Node", None, node.name) for node in self.nodes),
            *((res.kind, res.namespace, res.name) for res in self.resources),
        ):
            if (kind, namespace, name) in seen:
                raise ValueError(f"duplicate {kind} {namespace + '/' if namespace else ''}{name}")
            seen.add((kind, namespace, name))
        return self


def scenarios_dir() -> Path:
    return repo_root() / "golden" / "agent_scenarios"


def load_scenario_file(path: Path) -> Scenario:
    """Load one scenario; its id must match the file name so traces and datasets agree."""
    try:
        scenario = load_yaml_model(path, Scenario)
    except ScenarioError:
        raise
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None
    if scenario.id != path.stem:
        raise ScenarioError(f"{path}: id {scenario.id!r} does not match the file name {path.stem!r}")
    return scenario


@lru_cache(maxsize=8)
def _load_all(folder: str) -> dict[str, Scenario]:
    paths = sorted(Path(folder).glob("*.yaml"))
    if not paths:
        raise ScenarioError(f"{folder}: no scenario files (*.yaml)")
    return {path.stem: load_scenario_file(path) for path in paths}


def load_scenarios(folder: Path | None = None) -> list[Scenario]:
    """Every scenario, sorted by id."""
    return list(_load_all(str(folder or scenarios_dir())).values())


def load_scenario(scenario_id: str, folder: Path | None = None) -> Scenario:
    by_id = _load_all(str(folder or scenarios_dir()))
    if scenario_id not in by_id:
        raise ScenarioError(f"unknown scenario {scenario_id!r} (known: {len(by_id)} in {folder or scenarios_dir()}; "
                            "list them with: workbench agent scenarios)")
    return by_id[scenario_id]


def neutral_choices(scenarios: list[Scenario]) -> list[tuple[str, str]]:
    """(label, scenario id) pairs that do not give the answer away: the ids and titles name the
    root cause, so a picker shows a case number, the namespaces and the user's question, in an
    order shuffled by a stable hash (alphabetical ids would group the cases by cause)."""
    import hashlib

    ordered = sorted(scenarios, key=lambda scenario: hashlib.sha256(scenario.id.encode()).hexdigest())
    return [(f"Case {number:02d} · {', '.join(scenario.namespaces) or 'cluster'} · {scenario.question}", scenario.id)
            for number, scenario in enumerate(ordered, start=1)]
