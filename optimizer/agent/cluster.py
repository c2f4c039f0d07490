"""A fixture-backed cluster: a scenario answers read-only kubectl commands as text; nothing is spawned.

``SimulatedCluster(scenario).kubectl(argv)`` takes an already checked argument list (see
``kubectl.py``) and returns what kubectl would print, errors included (``Error from server
(NotFound): ...``). ``find_issues`` is the agent's discovery tool: every unhealthy node, object,
pod and workload, plus warning events about objects not listed otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.agent.describe import (
    describe_node,
    describe_pod,
    describe_resource,
    node_conditions,
    node_ip,
    parse_quantity,
    percent,
    pod_ip,
    table,
)
from optimizer.agent.kubectl import KubectlArgs
from optimizer.agent.scenarios import Condition, Container, Event, Node, Pod, Resource, Scenario

BASE_NODES = [Node(name=f"node-{index}", allocated={"cpu": "1450m", "memory": "5Gi"},
                   usage={"cpu": f"{300 + 40 * index}m", "memory": f"{4 + index}Gi"}) for index in (1, 2, 3)]


def _base_pods() -> list[Pod]:
    coredns_logs = (".:53\n[INFO] plugin/reload: Running configuration SHA512 = 8a0c1e5f\nCoreDNS-1.11.1\n"
                    "linux/amd64, go1.21.5, ae2bbc2")

    def coredns(name: str, node: str) -> Pod:
        return Pod(name=name, namespace="kube-system", node=node, age="41d", owner="ReplicaSet/coredns-7db6d8ff4d",
                   labels={"k8s-app": "kube-dns"}, service_account="coredns",
                   containers=[Container(name="coredns", image="registry.k8s.io/coredns/coredns:v1.11.1", ports=[53, 9153],
                                         limits={"memory": "170Mi"}, requests={"cpu": "100m", "memory": "70Mi"},
                                         usage={"cpu": "3m", "memory": "18Mi"}, logs=coredns_logs)])

    pods = [coredns("coredns-7db6d8ff4d-9xk2p", "node-1"), coredns("coredns-7db6d8ff4d-q7v5m", "node-2")]
    for suffix, node in (("4fz8k", "node-1"), ("b7m2x", "node-2"), ("t9w6c", "node-3")):
        pods.append(Pod(name=f"kube-proxy-{suffix}", namespace="kube-system", node=node, age="41d", owner="DaemonSet/kube-proxy",
                        labels={"k8s-app": "kube-proxy"},
                        containers=[Container(name="kube-proxy", image="registry.k8s.io/kube-proxy:v1.29.6",
                                              usage={"cpu": "1m", "memory": "21Mi"},
                                              logs="I1118 09:12:44.100233       1 server_others.go:72] \"Using iptables proxy\"")]))
    pods.append(Pod(name="metrics-server-6d94bc8694-lkq2z", namespace="kube-system", node="node-2", age="41d",
                    owner="ReplicaSet/metrics-server-6d94bc8694", labels={"k8s-app": "metrics-server"},
                    containers=[Container(name="metrics-server", image="registry.k8s.io/metrics-server/metrics-server:v0.7.1",
                                          requests={"cpu": "100m", "memory": "200Mi"}, usage={"cpu": "4m", "memory": "31Mi"},
                                          logs="I1118 09:12:50.881020       1 serving.go:374] Generated self-signed cert in-memory")]))
    return pods


@dataclass(frozen=True)
class KindInfo:
    kind: str
    plural: str
    short_names: tuple[str, ...]
    namespaced: bool
    api_version: str


BUILTIN_KINDS = [
    KindInfo("Pod", "pods", ("po",), True, "v1"),
    KindInfo("Node", "nodes", ("no",), False, "v1"),
    KindInfo("Event", "events", ("ev",), True, "v1"),
    KindInfo("Namespace", "namespaces", ("ns",), False, "v1"),
    KindInfo("Service", "services", ("svc",), True, "v1"),
    KindInfo("ConfigMap", "configmaps", ("cm",), True, "v1"),
    KindInfo("Secret", "secrets", (), True, "v1"),
    KindInfo("PersistentVolumeClaim", "persistentvolumeclaims", ("pvc",), True, "v1"),
    KindInfo("PersistentVolume", "persistentvolumes", ("pv",), False, "v1"),
    KindInfo("Deployment", "deployments", ("deploy",), True, "apps/v1"),
    KindInfo("StatefulSet", "statefulsets", ("sts",), True, "apps/v1"),
    KindInfo("DaemonSet", "daemonsets", ("ds",), True, "apps/v1"),
    KindInfo("ReplicaSet", "replicasets", ("rs",), True, "apps/v1"),
    KindInfo("Job", "jobs", (), True, "batch/v1"),
    KindInfo("Ingress", "ingresses", ("ing",), True, "networking.k8s.io/v1"),
    KindInfo("StorageClass", "storageclasses", ("sc",), False, "storage.k8s.io/v1"),
    KindInfo("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", (), False, "admissionregistration.k8s.io/v1"),
    KindInfo("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", (), False, "admissionregistration.k8s.io/v1"),
]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
POSITIVE_CONDITIONS = {"Ready", "Synced", "Healthy", "Installed", "Available", "Established", "Reconciled", "Offered"}
BAD_STATUS = {"Pending", "Failed", "Lost", "Error", "Degraded"}
CATEGORY_GROUPS = {"crossplane": ("crossplane.io", "upbound.io"), "istio": ("istio.io",)}
WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


@dataclass(frozen=True)
class Issue:
    """One line of FIND_ISSUES: what is unhealthy and the short status that says so."""

    kind: str
    namespace: str | None
    name: str
    problem: str


def _age_minutes(age: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+)([smhd])", age):
        total += int(amount) * {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}[unit]
    return total


class SimulatedCluster:
    """What a scenario's cluster answers. Read-only by construction: it has no verbs that write."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        given_nodes = {node.name: node for node in scenario.nodes}
        base_nodes = BASE_NODES if scenario.base else []
        self.nodes = [given_nodes.pop(node.name, node) for node in base_nodes] + list(given_nodes.values())
        given_pods = {(pod.namespace, pod.name): pod for pod in scenario.pods}
        base_pods = _base_pods() if scenario.base else []
        self.pods = list(given_pods.values()) + [pod for pod in base_pods if (pod.namespace, pod.name) not in given_pods]
        self.pods = [self._placed(pod, index) for index, pod in enumerate(self.pods)]
        self.events = list(scenario.events) + [event for pod in self.pods for event in _pod_events(pod)]
        self.resources = list(scenario.resources) + self._derived_workloads()
        self.namespaces = sorted({"default", "kube-system", "kube-public", "kube-node-lease", *scenario.namespaces,
                                  *(pod.namespace for pod in self.pods),
                                  *(res.namespace for res in self.resources if res.namespace)})

    # ---------------------------------------------------------------- object model

    def _placed(self, pod: Pod, index: int) -> Pod:
        """Give a running pod a node (round robin over Ready nodes) and default labels."""
        updates: dict[str, object] = {}
        if pod.node is None and pod.phase != "Pending" and self.nodes:
            ready = [node.name for node in self.nodes if node.status == "Ready"] or [self.nodes[0].name]
            updates["node"] = ready[index % len(ready)]
        if not pod.labels:
            updates["labels"] = {"app": _owner_base(pod) or pod.name}
        return pod.model_copy(update=updates) if updates else pod

    def _derived_workloads(self) -> list[Resource]:
        """Deployments, StatefulSets, DaemonSets and Jobs implied by pod owners (unless declared)."""
        declared = {(res.kind, res.namespace, res.name) for res in self.scenario.resources}
        groups: dict[tuple[str, str, str], list[Pod]] = {}
        for pod in self.pods:
            owner = _workload_of(pod)
            if owner is not None:
                groups.setdefault((owner[0], pod.namespace, owner[1]), []).append(pod)
        workloads = []
        for (kind, namespace, name), members in groups.items():
            if (kind, namespace, name) not in declared:
                workloads.append(_workload(kind, namespace, name, members, self.events))
        return workloads

    def kind_info(self, word: str) -> KindInfo | None:
        """Resolve ``pods``, ``po``, ``Pod``, ``certificates.cert-manager.io``, ``bucket`` to a kind."""
        lowered = word.lower()
        for info in self._all_kinds():
            group = info.api_version.rsplit("/", 1)[0] if "/" in info.api_version else ""
            names = {info.kind.lower(), info.plural, *info.short_names}
            if lowered in names or (group and lowered in {f"{info.plural}.{group}", f"{info.kind.lower()}.{group}"}):
                return info
        return None

    def _all_kinds(self) -> list[KindInfo]:
        kinds = list(BUILTIN_KINDS)
        known = {info.kind for info in kinds}
        for res in self.resources:
            if res.kind not in known:
                known.add(res.kind)
                kinds.append(KindInfo(res.kind, res.resource_plural, tuple(res.short_names), res.namespace is not None, res.api_version))
        return kinds

    def kind_words(self) -> list[str]:
        """Words a command may name a kind by: every kind (lower case) and the listing categories."""
        return sorted({info.kind.lower() for info in self._all_kinds()} | {"pods", "nodes", "events", "crossplane", "istio", "webhooks"})

    def object_refs(self) -> list[tuple[str, str | None, str]]:
        """(kind, namespace, name) of every pod, node and other object."""
        return ([("Pod", pod.namespace, pod.name) for pod in self.pods] + [("Node", None, node.name) for node in self.nodes]
                + [(res.kind, res.namespace, res.name) for res in self.resources])

    def category_kinds(self, word: str) -> list[str] | None:
        """Kinds in a category (``crossplane``, ``managed``, ``istio``, ``webhooks``, ``all``), or None."""
        lowered = word.lower()
        if lowered in ("webhooks", "webhook"):
            return list(WEBHOOK_KINDS)
        if lowered == "all":
            return ["Pod", "Service", "Deployment", "StatefulSet", "DaemonSet", "Job"]
        kinds: list[str] = []
        for res in self.resources:
            group = res.api_version.split("/")[0]
            in_category = lowered in res.categories or any(group.endswith(suffix) for suffix in CATEGORY_GROUPS.get(lowered, ()))
            if in_category and res.kind not in kinds:
                kinds.append(res.kind)
        return kinds or None

    def objects(self, kind: str, namespace: str | None) -> list[object]:
        if kind == "Pod":
            found: list[object] = [pod for pod in self.pods if namespace is None or pod.namespace == namespace]
        elif kind == "Node":
            found = list(self.nodes)
        elif kind == "Event":
            found = [event for event in self.events if namespace is None or event.namespace == namespace]
        elif kind == "Namespace":
            found = list(self.namespaces)
        else:
            found = [res for res in self.resources if res.kind == kind and (namespace is None or res.namespace in (namespace, None))]
        return found

    def find(self, kind: str, namespace: str | None, name: str) -> object | None:
        for item in self.objects(kind, namespace if kind not in ("Node", "Namespace") else None):
            item_name = item if isinstance(item, str) else getattr(item, "name", None)
            if item_name == name:
                return item
        return None

    def events_for(self, kind: str, name: str, namespace: str | None) -> list[Event]:
        return [e for e in self.events if e.object == f"{kind}/{name}" and (namespace is None or e.namespace == namespace or kind == "Node")]

    def node_index(self, name: str | None) -> int:
        for index, node in enumerate(self.nodes, start=1):
            if node.name == name:
                return index
        return 0

    # ---------------------------------------------------------------- discovery

    def find_issues(self) -> list[Issue]:
        """Unhealthy nodes, then objects, pods and workloads, then warning events about anything else."""
        issues: list[Issue] = []
        for node in self.nodes:
            pressure = [c.type for c in node_conditions(node) if c.type.endswith("Pressure") and c.status == "True"]
            if node.status != "Ready":
                issues.append(Issue("Node", None, node.name, node.status))
            elif pressure:
                issues.append(Issue("Node", None, node.name, ", ".join(pressure)))
        for res in self.resources:
            problem = _resource_problem(res)
            if problem and res.kind not in WORKLOAD_KINDS:
                issues.append(Issue(res.kind, res.namespace, res.name, problem))
        for pod in self.pods:
            problem = _pod_problem(pod)
            if problem:
                issues.append(Issue("Pod", pod.namespace, pod.name, problem))
        for res in self.resources:
            problem = _resource_problem(res)
            if problem and res.kind in WORKLOAD_KINDS:
                issues.append(Issue(res.kind, res.namespace, res.name, problem))
        listed = {f"{issue.kind}/{issue.name}" for issue in issues}
        for event in self.events:
            if event.type == "Warning" and event.object not in listed and _age_minutes(event.age) <= 60:
                listed.add(event.object)
                kind, name = event.object.split("/", 1)
                issues.append(Issue(kind, event.namespace if kind != "Node" else None, name, f"warning event {event.reason}"))
        return issues

    def find_issues_text(self) -> str:
        issues = self.find_issues()
        if not issues:
            checked = f"{len(self.pods)} pods, {len(self.nodes)} nodes and {len(self.resources)} other resources"
            return f"No issues found. Checked {checked}: all are healthy and no recent warning events."
        return table(["KIND", "NAMESPACE", "NAME", "PROBLEM"], [[i.kind, i.namespace or "-", i.name, i.problem] for i in issues])

    # ---------------------------------------------------------------- kubectl

    def kubectl(self, argv: Sequence[str]) -> str:
        """Answer a checked, read-only argument list (without the leading ``kubectl``)."""
        args = KubectlArgs.parse(argv)
        verb = args.verb
        if verb == "get":
            return self._get(args)
        if verb == "describe":
            return self._describe(args)
        if verb == "logs":
            return self._logs(args)
        if verb == "top":
            return self._top(args)
        if verb == "events":
            return self._get_kind("Event", args.namespace, args.all_namespaces, False)
        return self._api_resources()

    def _get(self, args: KubectlArgs) -> str:
        targets, names = _split_targets(args.targets)
        kinds: list[str] = []
        for target in targets:
            category = self.category_kinds(target)
            info = self.kind_info(target)
            if info is not None:
                kinds.append(info.kind)
            elif category is not None:
                kinds.extend(category)
            elif target.lower() in ("crossplane", "managed", "istio"):
                return "No resources found"
            else:
                return f'error: the server doesn\'t have a resource type "{target}"'
        namespace = None if args.all_namespaces else args.namespace
        if len(kinds) == 1:
            return self._get_kind(kinds[0], namespace, args.all_namespaces, args.wide, names)
        blocks = [self._get_kind(kind, namespace, args.all_namespaces, args.wide, names, qualified=True) for kind in kinds]
        blocks = [block for block in blocks if not block.startswith("No resources")]
        return "\n\n".join(blocks) or f"No resources found{' in ' + namespace + ' namespace' if namespace else ''}."

    def _get_kind(self, kind: str, namespace: str | None, all_namespaces: bool, wide: bool, names: Sequence[str] = (),
                  qualified: bool = False) -> str:
        info = self.kind_info(kind)
        namespaced = info.namespaced if info else True
        scope = None if all_namespaces or not namespaced else namespace
        items = self.objects(kind, scope)
        if names:
            missing = [name for name in names if self.find(kind, scope, name) is None]
            if missing:
                where = f' in namespace "{scope}"' if scope else ""
                return f'Error from server (NotFound): {info.plural if info else kind.lower()} "{missing[0]}" not found{where}'
            items = [item for item in items if (item if isinstance(item, str) else getattr(item, "name", "")) in names]
        if not items:
            return f"No resources found in {scope} namespace." if scope else "No resources found"
        show_namespace = all_namespaces and namespaced
        prefix = f"{info.plural}.{info.api_version.rsplit('/', 1)[0]}/" if qualified and info and "/" in info.api_version else ""
        if kind == "Pod":
            return self._pods_table(items, show_namespace, wide)  # type: ignore[arg-type]
        if kind == "Node":
            rows = [[n.name, n.status, n.roles, n.age, n.version] + ([node_ip(n), "Ubuntu 22.04.4 LTS"] if wide else []) for n in items]  # type: ignore[union-attr]
            return table(["NAME", "STATUS", "ROLES", "AGE", "VERSION"] + (["INTERNAL-IP", "OS-IMAGE"] if wide else []), rows)
        if kind == "Event":
            rows = [([e.namespace] if show_namespace else []) + [e.age, e.type, e.reason, e.object.lower(), e.message] for e in items]  # type: ignore[union-attr]
            return table((["NAMESPACE"] if show_namespace else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows)
        if kind == "Namespace":
            return table(["NAME", "STATUS", "AGE"], [[name, "Active", "41d"] for name in items])
        resources: list[Resource] = items  # type: ignore[assignment]
        columns: list[str] = []
        for res in resources:
            columns += [column for column in res.columns if column not in columns]
        rows = [([res.namespace or ""] if show_namespace else []) + [prefix + res.name] + [res.columns.get(c, "") for c in columns] + [res.age]
                for res in resources]
        return table((["NAMESPACE"] if show_namespace else []) + ["NAME", *columns, "AGE"], rows)

    def _pods_table(self, pods: Sequence[Pod], show_namespace: bool, wide: bool) -> str:
        rows = []
        for pod in pods:
            ready = f"{sum(c.is_ready for c in pod.containers)}/{len(pod.containers)}"
            last = next((c.last_restart for c in pod.containers if c.last_restart), None)
            restarts = f"{pod.restarts} ({last} ago)" if last and pod.restarts else str(pod.restarts)
            row = ([pod.namespace] if show_namespace else []) + [pod.name, ready, pod.display_status, restarts, pod.age]
            if wide:
                row += [pod_ip(pod, self.node_index(pod.node)) or "<none>", pod.node or "<none>"]
            rows.append(row)
        headers = (["NAMESPACE"] if show_namespace else []) + ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] + (["IP", "NODE"] if wide else [])
        return table(headers, rows)

    def _describe(self, args: KubectlArgs) -> str:
        targets, names = _split_targets(args.targets)
        info = self.kind_info(targets[0])
        if info is None:
            return f'error: the server doesn\'t have a resource type "{targets[0]}"'
        namespace = args.namespace if info.namespaced else None
        if args.all_namespaces:
            namespace = None
        if not names:
            names = [getattr(item, "name", str(item)) for item in self.objects(info.kind, namespace)]
            if not names:
                return f"No resources found in {namespace} namespace." if namespace else "No resources found"
        pages = []
        for name in names:
            item = self.find(info.kind, namespace, name)
            if item is None:
                where = f' in namespace "{namespace}"' if namespace else ""
                return f'Error from server (NotFound): {info.plural} "{name}" not found{where}'
            pages.append(self._describe_one(info.kind, item))
        return "\n\n\n".join(pages)

    def _describe_one(self, kind: str, item: object) -> str:
        if isinstance(item, Pod):
            return describe_pod(item, pod_ip(item, self.node_index(item.node)), item.owner,
                                self.events_for("Pod", item.name, item.namespace), _pod_condition_rows(item))
        if isinstance(item, Node):
            return describe_node(item, [p for p in self.pods if p.node == item.name], self.events_for("Node", item.name, None))
        if isinstance(item, Resource):
            return describe_resource(item, self.events_for(item.kind, item.name, item.namespace))
        return f"Name:         {item}\nLabels:       <none>\nStatus:       Active"

    def _logs(self, args: KubectlArgs) -> str:
        target = args.targets[0]
        name = target.split("/", 1)[1] if "/" in target else target
        pod = self.find("Pod", args.namespace, name)
        if not isinstance(pod, Pod):
            return f'Error from server (NotFound): pods "{name}" not found'
        container = pod.containers[0]
        wanted = args.container
        if wanted:
            matching = [c for c in pod.containers if c.name == wanted]
            if not matching:
                names = " ".join(c.name for c in pod.containers)
                return f"error: container {wanted} is not valid for pod {pod.name}; valid containers: {names}"
            container = matching[0]
        if container.state == "waiting" and not container.logs:
            reason = "trying and failing to pull image" if "Image" in (container.reason or "") else (container.reason or "ContainerCreating")
            return f'Error from server (BadRequest): container "{container.name}" in pod "{pod.name}" is waiting to start: {reason}'
        lines = container.logs.rstrip("\n").splitlines()
        if args.tail is not None:
            lines = lines[-args.tail:] if args.tail else []
        notice = [f'Defaulted container "{container.name}" out of: {", ".join(c.name for c in pod.containers)}'] if len(pod.containers) > 1 and not wanted else []
        return "\n".join(notice + lines)

    def _top(self, args: KubectlArgs) -> str:
        what = args.targets[0].lower() if args.targets else "pods"
        if what in ("node", "nodes", "no"):
            rows = []
            for node in self.nodes:
                if node.status != "Ready":
                    rows.append([node.name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"])
                    continue
                cpu, memory = node.usage.get("cpu", "250m"), node.usage.get("memory", "3Gi")
                rows.append([node.name, f"{round(parse_quantity(cpu) * 1000)}m", percent(cpu, node.cpu),
                             f"{round(parse_quantity(memory) / 2**20)}Mi", percent(memory, node.memory)])
            return table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], rows)
        if what not in ("pod", "pods", "po"):
            return f'error: unknown command "{what}" for "kubectl top"'
        namespace = None if args.all_namespaces else args.namespace
        rows = []
        for pod in self.pods:
            if (namespace and pod.namespace != namespace) or pod.display_status not in ("Running",):
                continue
            cpu = sum(parse_quantity(c.usage.get("cpu", "1m")) for c in pod.containers)
            memory = sum(parse_quantity(c.usage.get("memory", "16Mi")) for c in pod.containers)
            rows.append(([pod.namespace] if namespace is None else []) + [pod.name, f"{round(cpu * 1000)}m", f"{round(memory / 2**20)}Mi"])
        if not rows:
            return "error: metrics not available yet"
        return table((["NAMESPACE"] if namespace is None else []) + ["NAME", "CPU(cores)", "MEMORY(bytes)"], rows)

    def _api_resources(self) -> str:
        rows = [[info.plural, ",".join(info.short_names), info.api_version, str(info.namespaced).lower(), info.kind]
                for info in self._all_kinds()]
        return table(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], rows)


def _split_targets(targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """``pods x y`` -> (['pods'], ['x', 'y']); ``pod/x`` -> (['pod'], ['x']); ``a,b`` -> (['a', 'b'], [])."""
    if not targets:
        return ["pods"], []
    first = targets[0]
    if "/" in first:
        kind, name = first.split("/", 1)
        return [kind], [name, *(t.split("/", 1)[-1] for t in targets[1:])]
    return first.split(","), list(targets[1:])


def _owner_base(pod: Pod) -> str | None:
    workload = _workload_of(pod)
    return workload[1] if workload else None


def _workload_of(pod: Pod) -> tuple[str, str] | None:
    if not pod.owner:
        return None
    kind, name = pod.owner.split("/", 1)
    if kind == "ReplicaSet":
        return "Deployment", name.rsplit("-", 1)[0]
    return (kind, name) if kind in WORKLOAD_KINDS else None


def _pod_condition_rows(pod: Pod) -> list[tuple[str, str]]:
    if pod.phase == "Pending" and not pod.node:
        return [("PodScheduled", "False")]
    ready = all(c.is_ready for c in pod.containers)
    started = all(c.state == "running" for c in pod.containers)
    return [("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", str(ready)),
            ("ContainersReady", str(ready)), ("PodScheduled", "True")] if started or pod.node else []


def _pod_events(pod: Pod) -> list[Event]:
    """The events the kubelet and scheduler would have recorded for this pod's state."""
    obj = f"Pod/{pod.name}"
    events: list[Event] = []
    if pod.scheduling_error:
        events.append(Event(namespace=pod.namespace, object=obj, reason="FailedScheduling", message=pod.scheduling_error,
                            count=12, age="45s", first_seen="11m"))
    for container in pod.containers:
        if container.pull_error:
            events.append(Event(namespace=pod.namespace, object=obj, type="Normal", reason="Pulling", count=5, age="3m", first_seen="9m",
                                message=f'Pulling image "{container.image}"'))
            events.append(Event(namespace=pod.namespace, object=obj, reason="Failed", count=5, age="3m", first_seen="9m",
                                message=f'Failed to pull image "{container.image}": {container.pull_error}'))
            events.append(Event(namespace=pod.namespace, object=obj, reason="Failed", count=5, age="3m", first_seen="9m", message="Error: ErrImagePull"))
            events.append(Event(namespace=pod.namespace, object=obj, type="Normal", reason="BackOff", count=38, age="12s", first_seen="9m",
                                message=f'Back-off pulling image "{container.image}"'))
        if container.probe_failure:
            events.append(Event(namespace=pod.namespace, object=obj, reason="Unhealthy", count=max(3, container.restarts * 3), age="20s",
                                first_seen="14m", message=container.probe_failure))
            if container.probe_failure.startswith("Liveness") and container.restarts:
                events.append(Event(namespace=pod.namespace, object=obj, type="Normal", reason="Killing", count=container.restarts,
                                    age="2m", first_seen="14m", message=f"Container {container.name} failed liveness probe, will be restarted"))
        if container.reason == "CreateContainerConfigError" and container.message:
            events.append(Event(namespace=pod.namespace, object=obj, reason="Failed", count=9, age="30s", first_seen="8m",
                                message=f"Error: {container.message}"))
        if container.reason == "CrashLoopBackOff":
            events.append(Event(namespace=pod.namespace, object=obj, reason="BackOff", count=max(1, container.restarts * 4), age="40s",
                                first_seen=pod.age, message=f"Back-off restarting failed container {container.name} in pod {pod.name}_{pod.namespace}"))
    return events


def _pod_problem(pod: Pod) -> str | None:
    status = pod.display_status
    if status in ("Completed",):
        return None
    ready = sum(c.is_ready for c in pod.containers)
    if status != "Running":
        return f"{status}, restarts {pod.restarts}" if pod.restarts else status
    if ready < len(pod.containers):
        return f"Running, ready {ready}/{len(pod.containers)}"
    if pod.restarts >= 3:
        return f"Running, restarts {pod.restarts}"
    return None


def _resource_problem(res: Resource) -> str | None:
    if res.healthy is True:
        return None
    failing = [c for c in res.conditions if c.type in POSITIVE_CONDITIONS and c.status != "True"]
    if failing:
        return ", ".join(f"{c.type} {c.status}" + (f" ({c.reason})" if c.reason else "") for c in failing)
    status = res.columns.get("STATUS")
    if status in BAD_STATUS:
        return status
    if res.columns.get("READY") == "False":
        return "READY False"
    ready = res.columns.get("READY", "")
    if res.kind in WORKLOAD_KINDS and re.fullmatch(r"\d+/\d+", ready):
        have, want = (int(part) for part in ready.split("/"))
        if have < want:
            return f"{have}/{want} ready"
    if res.healthy is False:
        return res.problem or "not healthy"
    return None


def _workload(kind: str, namespace: str, name: str, pods: Sequence[Pod], events: Sequence[Event]) -> Resource:
    total = len(pods)
    ready = sum(all(c.is_ready for c in pod.containers) for pod in pods)
    image = pods[0].containers[0].image
    details = {"Selector": f"app={name}", "Pod Template": {"Containers": {pods[0].containers[0].name: {"Image": image}}}}
    if kind == "Job":
        done = sum(pod.phase == "Succeeded" for pod in pods)
        return Resource(kind=kind, namespace=namespace, name=name, api_version="batch/v1", age=pods[0].age,
                        columns={"COMPLETIONS": f"{done}/{total}", "DURATION": "41s"}, details=details, healthy=True)
    if kind == "DaemonSet":
        columns = {"DESIRED": str(total), "CURRENT": str(total), "READY": str(ready), "UP-TO-DATE": str(total), "AVAILABLE": str(ready)}
        return Resource(kind=kind, namespace=namespace, name=name, api_version="apps/v1", age=pods[0].age, columns=columns,
                        details=details, healthy=ready == total)
    columns = {"READY": f"{ready}/{total}"}
    if kind == "Deployment":
        columns.update({"UP-TO-DATE": str(total), "AVAILABLE": str(ready)})
        details = {"Replicas": f"{total} desired | {total} updated | {total} total | {ready} available | {total - ready} unavailable",
                   "StrategyType": "RollingUpdate", **details}
    available = Condition(type="Available", status="True" if ready == total else "False",
                          reason="MinimumReplicasAvailable" if ready == total else "MinimumReplicasUnavailable",
                          message="Deployment has minimum availability." if ready == total else "Deployment does not have minimum availability.")
    conditions = [available] if kind == "Deployment" else []
    return Resource(kind=kind, namespace=namespace, name=name, api_version="apps/v1", age=pods[0].age, columns=columns,
                    details=details, conditions=conditions)
