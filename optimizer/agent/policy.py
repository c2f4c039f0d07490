"""The deterministic half of the agent: states, keyword-based tool choice, evidence-based diagnosis.

The state machine (DISCOVERY -> INSPECT -> DIAGNOSE -> RESOLVE -> DONE) narrows what the model
may call at each point; a successful call moves one state on. When the model fails (no usable
call, a placeholder, a loop, a tool the state does not allow) ``choose_tool`` picks the next call
from the question's keywords and what was found so far. When its answer is missing or names
nothing that was seen, ``diagnose`` reads the collected evidence with a fixed rule table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from optimizer.agent.cluster import Issue, SimulatedCluster
from optimizer.agent.protocol import Answer, call_key
from optimizer.agent.tools import ToolCall, ToolResult


@dataclass(frozen=True)
class StateSpec:
    tools: tuple[str, ...]
    guidance: str


STATES: dict[str, StateSpec] = {
    "DISCOVERY": StateSpec(("FIND_ISSUES", "LIST_ALL"), "Find what is unhealthy: call FIND_ISSUES."),
    "INSPECT": StateSpec(("DESCRIBE", "RUN_KUBECTL"), "Describe the first unhealthy resource named in the last result."),
    "DIAGNOSE": StateSpec(("GET_LOGS", "RUN_KUBECTL", "DESCRIBE"), "Read the logs or events of that resource to confirm the cause."),
    "RESOLVE": StateSpec((), "Give the final answer with the root cause and the culprit resource."),
}
ORDER = ("DISCOVERY", "INSPECT", "DIAGNOSE", "RESOLVE", "DONE")
NO_ISSUES = "No issues found."


def next_state(state: str, result: ToolResult) -> str:
    """One state on after a call that worked; RESOLVE at once when discovery found nothing wrong."""
    if not result.ok:
        return state
    if result.call.name == "FIND_ISSUES" and result.output.startswith(NO_ISSUES):
        return "RESOLVE"
    return ORDER[min(ORDER.index(state) + 1, ORDER.index("RESOLVE"))]


@dataclass
class Evidence:
    """What the investigation has seen: the issues list, the resource in focus, every output."""

    issues: list[Issue] = field(default_factory=list)
    healthy: bool = False
    focus: Issue | None = None
    outputs: list[tuple[ToolCall, str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def record(self, cluster: SimulatedCluster, result: ToolResult) -> None:
        self.used.add(call_key(result.call))
        if not result.ok:
            return
        self.outputs.append((result.call, result.output))
        if result.call.name == "FIND_ISSUES":
            self.issues = cluster.find_issues()
            self.healthy = not self.issues
            self.focus = self.focus or (self.issues[0] if self.issues else None)
        elif result.call.name == "DESCRIBE":
            kind, *rest = result.call.args
            info = cluster.kind_info(kind)
            namespace = rest[0] if len(rest) == 2 and info is not None and info.namespaced else None
            described = Issue(info.kind if info else kind, namespace, rest[-1], "described")
            listed = [i for i in self.issues if i.kind == described.kind and i.name == described.name]
            self.focus = listed[0] if listed else described

    @property
    def text(self) -> str:
        return "\n".join(output for _, output in self.outputs)

    def seen(self, word: str) -> bool:
        return word.lower() in self.text.lower()


QUESTION_KEYWORDS: list[tuple[tuple[str, ...], ToolCall]] = [
    (("certificate", "tls", "x509", "https"), ToolCall("LIST_ALL", ("certificates",))),
    (("crossplane", "bucket", "provider", "claim", "composite", "rds"), ToolCall("LIST_ALL", ("crossplane",))),
    (("istio", "mesh", "virtualservice", "sidecar", "envoy", "mtls", "503"), ToolCall("LIST_ALL", ("istio",))),
    (("webhook", "admission"), ToolCall("LIST_ALL", ("webhooks",))),
    (("node", "nodes"), ToolCall("LIST_ALL", ("nodes",))),
    (("volume", "pvc", "disk", "storage"), ToolCall("LIST_ALL", ("pvc",))),
    (("event", "warning"), ToolCall("RUN_KUBECTL", ("get", "events", "-A"))),
]


def _describe_call(issue: Issue) -> ToolCall:
    if issue.namespace is None:
        return ToolCall("DESCRIBE", (issue.kind.lower(), issue.name))
    return ToolCall("DESCRIBE", (issue.kind.lower(), issue.namespace, issue.name))


def choose_tool(state: str, question: str, evidence: Evidence) -> tuple[ToolCall, str] | None:
    """A deterministic next call for ``state`` that was not made yet, with the reason, or None."""
    candidates: list[tuple[ToolCall, str]] = []
    words = set(re.findall(r"[a-z0-9]+", question.lower()))
    keyword_calls = [(call, f"question mentions {sorted(words & set(keys))[0]}") for keys, call in QUESTION_KEYWORDS if words & set(keys)]
    if state == "DISCOVERY":
        candidates.append((ToolCall("FIND_ISSUES"), "discovery starts with FIND_ISSUES"))
        candidates += keyword_calls
        candidates.append((ToolCall("LIST_ALL", ("pods",)), "list every pod"))
    elif state == "INSPECT":
        candidates += [(_describe_call(issue), f"first unhealthy {issue.kind} not described yet") for issue in evidence.issues
                       if not issue.problem.startswith("warning event") or issue.kind in ("Pod", "Node", "Deployment")]
        candidates += keyword_calls
        candidates.append((ToolCall("RUN_KUBECTL", ("get", "events", "-A")), "recent events of the cluster"))
    elif state == "DIAGNOSE":
        focus = evidence.focus
        issues = [issue for issue in evidence.issues if not issue.problem.startswith("warning event")]
        describe = [(_describe_call(issue), f"unhealthy {issue.kind} not described yet") for issue in issues]
        logs = [(ToolCall("GET_LOGS", (issue.namespace, issue.name)), f"logs of pod {issue.name}")
                for issue in issues if issue.kind == "Pod" and issue.namespace]
        if focus is not None and focus.kind == "Pod" and focus.namespace:
            candidates.append((ToolCall("GET_LOGS", (focus.namespace, focus.name)), f"logs of pod {focus.name}"))
        else:
            candidates += describe[:2] + logs[:1]
        if focus is not None and focus.namespace:
            candidates.append((ToolCall("RUN_KUBECTL", ("get", "events", "-n", focus.namespace)), f"events in namespace {focus.namespace}"))
        candidates += describe + logs
        candidates.append((ToolCall("RUN_KUBECTL", ("get", "events", "-A")), "recent events of the cluster"))
    for call, reason in candidates:
        if call_key(call) not in evidence.used:
            return call, f"keyword fallback: {reason}"
    return None


# ---------------------------------------------------------------- diagnosis from evidence

Culprit = Callable[[re.Match[str], Evidence], str | None]


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    root_cause: str
    culprit: Culprit | None = None
    kinds: tuple[str, ...] = ()
    """Prefer a listed issue of these kinds as the culprit."""


def _group(index: int, kind: str) -> Culprit:
    return lambda match, evidence: f"{kind} {match.group(index)}"


def _claim(match: re.Match[str], evidence: Evidence) -> str | None:
    claim = re.search(r"ClaimName:\s+(\S+)", evidence.text)
    focus = evidence.focus
    return f"PersistentVolumeClaim {focus.namespace}/{claim.group(1)}" if claim and focus and focus.namespace else None


RULES: list[Rule] = [
    Rule(re.compile(r"Kubelet stopped posting node status|container runtime is down|NetworkPluginNotReady[^\n]*"),
         "node is NotReady: {0}", kinds=("Node",)),
    Rule(re.compile(r'failed calling webhook "([^"]+)"[^\n]*'), "admission webhook {1} is failing, so pods cannot be created",
         culprit=_group(1, "webhook"), kinds=("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")),
    Rule(re.compile(r"x509: certificate has expired[^\n]*|certificate has expired[^\n]*|\bExpired\b[^\n]*"),
         "the TLS certificate has expired: {0}", kinds=("Certificate",)),
    Rule(re.compile(r"OOMKilled"), "container OOMKilled: the memory limit is too low for its usage", kinds=("Pod",)),
    Rule(re.compile(r'Failed to pull image "([^"]+)": [^\n]*(?:not found|manifest unknown)[^\n]*'),
         "image {1} cannot be pulled: the image tag does not exist", kinds=("Pod",)),
    Rule(re.compile(r'(configmap|secret) "([^"]+)" not found'), "missing configuration: {1} {2} not found", kinds=("Pod",)),
    # Anchored at line starts: an unanchored leading [^\n]* retries from every position (quadratic on a long line).
    Rule(re.compile(r"(?im)^[^\n]*?(?:environment variable|env var|is not set|missing required|required config)[^\n]*"),
         "missing configuration: {0}", kinds=("Pod",)),
    Rule(re.compile(r"(?:panic: |Traceback|Exception in thread|segmentation fault|nil pointer dereference)[^\n]*"),
         "the application panics at start ({0}) and crash loops", kinds=("Pod",)),
    Rule(re.compile(r"Liveness probe failed:[^\n]*"), "failing liveness probe restarts the container: {0}", kinds=("Pod",)),
    Rule(re.compile(r"Readiness probe failed:[^\n]*"), "failing readiness probe keeps the pod not ready: {0}", kinds=("Pod",)),
    Rule(re.compile(r"Insufficient cpu"), "FailedScheduling: insufficient CPU on every node for the pod's request", kinds=("Pod",)),
    Rule(re.compile(r"Insufficient memory"), "FailedScheduling: insufficient memory on every node for the pod's request", kinds=("Pod",)),
    Rule(re.compile(r'storageclass\.storage\.k8s\.io "([^"]+)" not found'), "PVC Pending: storage class {1} does not exist",
         culprit=_claim, kinds=("PersistentVolumeClaim",)),
    Rule(re.compile(r"no persistent volumes available for this claim[^\n]*|unbound immediate PersistentVolumeClaims"),
         "PVC Pending: no persistent volume can be bound", culprit=_claim, kinds=("PersistentVolumeClaim",)),
    Rule(re.compile(r"(?:no such host|SERVFAIL|Temporary failure in name resolution|could not resolve host|"
                    r"Loop \([^)]*\) detected)[^\n]*"), "DNS resolution fails: {0}", kinds=("Pod",)),
    Rule(re.compile(r"IST\d{4}[^\n]*|[Ss]ubset[^\n]*not found[^\n]*"), "Istio routing error: {0}",
         kinds=("VirtualService", "DestinationRule", "Gateway")),
    Rule(re.compile(r"(?:AccessDenied|InvalidParameter\w*|cannot [a-z]+ package)[^\n]*"), "Crossplane resource cannot reconcile: {0}"),
    Rule(re.compile(r"ReconcileError|UnhealthyPackageRevision"), "Crossplane resource cannot reconcile: {0}"),
]


def explains(evidence: Evidence) -> bool:
    """Whether a diagnosis rule recognises something in the evidence (else the answer would be generic)."""
    text = evidence.text
    return any(rule.pattern.search(text) for rule in RULES)


def _format_culprit(issue: Issue) -> str:
    return f"{issue.kind} {issue.namespace}/{issue.name}" if issue.namespace else f"{issue.kind} {issue.name}"


def diagnose(evidence: Evidence) -> Answer:
    """The answer the evidence supports, by the first rule that matches; 'no issue' when healthy."""
    if evidence.healthy:
        return Answer("no issue: every pod, node and resource is healthy", "none")
    text = evidence.text
    for rule in RULES:
        match = rule.pattern.search(text)
        if match is None:
            continue
        cause = rule.root_cause.format(" ".join(match.group(0).split())[:160], *match.groups())
        culprit = rule.culprit(match, evidence) if rule.culprit else None
        if culprit is None:
            listed = [issue for issue in evidence.issues if issue.kind in rule.kinds]
            focus = listed[0] if listed else evidence.focus
            culprit = _format_culprit(focus) if focus else "unknown"
        return Answer(cause, culprit)
    focus = evidence.focus
    if focus is not None:
        return Answer(f"{focus.kind} {focus.name} is unhealthy: {focus.problem}", _format_culprit(focus))
    return Answer("unknown: the evidence names no cause", "unknown")


def ungrounded(answer: Answer, evidence: Evidence, known_names: Sequence[str]) -> str | None:
    """Why an answer cannot be used (a placeholder, or a culprit nobody saw), else None."""
    if re.search(r"[<>]|\.\.\.", answer.root_cause) or len(answer.root_cause) < 4:
        return f"root cause {answer.root_cause[:60]!r} is a placeholder"
    if not re.search(r"[A-Za-z]{3,}", answer.root_cause):
        return f"root cause {answer.root_cause[:60]!r} says nothing"
    culprit = answer.culprit.lower()
    if culprit.strip(" .") in ("none", "n/a", "nothing", "no culprit", ""):
        return None if evidence.healthy else "culprit is none, but unhealthy resources were found"
    for name in known_names:
        if len(name) >= 3 and name.lower() in culprit and evidence.seen(name):
            return None
    return f"culprit {answer.culprit[:60]!r} names no resource seen in the investigation"
