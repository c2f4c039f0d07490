"""kubectl's text layouts: aligned tables and ``kubectl describe`` pages for pods, nodes and objects.

Pure functions from scenario objects to text; ``cluster.py`` decides what to show.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from optimizer.agent.scenarios import Condition, Container, Event, Node, Pod, Resource

NONE = "<none>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to the widest cell plus three spaces, like kubectl's printers."""
    materialized = [[str(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in materialized:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row)]
    lines = []
    for row in [list(headers), *materialized]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths[:-1])] + [row[-1]]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


def fields(pairs: Iterable[tuple[str, Any]], indent: int = 0, width: int | None = None) -> list[str]:
    """``Key:  value`` lines with values aligned; nested mappings are indented below their key."""
    items = list(pairs)
    width = width or max((len(key) for key, value in items if not isinstance(value, Mapping)), default=0) + 2
    pad = " " * indent
    lines: list[str] = []
    for key, value in items:
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines.extend(fields(value.items(), indent + 2))
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  {item}" for item in value)
        else:
            text = NONE if value is None or value == "" and key in ("Labels", "Annotations") else str(value)
            lines.append(f"{pad}{(key + ':').ljust(width)}{text}".rstrip())
    return lines


def _label_lines(name: str, labels: Mapping[str, str], width: int) -> list[str]:
    items = [f"{key}={value}" for key, value in labels.items()] or [NONE]
    first = f"{(name + ':').ljust(width)}{items[0]}"
    return [first, *(" " * width + item for item in items[1:])]


def events_section(events: Sequence[Event], indent: str = "") -> list[str]:
    if not events:
        return [f"{indent}Events:  {NONE}"]
    rows = []
    for event in events:
        age = f"{event.age} (x{event.count} over {event.first_seen or event.age})" if event.count > 1 else event.age
        rows.append(["  " + event.type, event.reason, age, event.source or default_source(event.reason), event.message])
    text = table(["  Type", "Reason", "Age", "From", "Message"], [["  ----", "------", "----", "----", "-------"], *rows])
    return [f"{indent}Events:", *text.splitlines()]


def default_source(reason: str) -> str:
    if reason in ("FailedScheduling", "Scheduled"):
        return "default-scheduler"
    if reason in ("FailedCreate", "SuccessfulCreate"):
        return "replicaset-controller"
    if reason in ("ProvisioningFailed", "ExternalProvisioning"):
        return "persistentvolume-controller"
    if reason.startswith("Node") or reason in ("Starting", "RegisteredNode"):
        return "node-controller"
    return "kubelet"


def pod_ip(pod: Pod, node_index: int) -> str:
    if pod.phase == "Pending" and not pod.node:
        return ""
    digest = int(hashlib.sha256(f"{pod.namespace}/{pod.name}".encode()).hexdigest()[:6], 16)
    return f"10.244.{node_index}.{digest % 250 + 2}"


def _container_state(container: Container) -> list[str]:
    if container.state == "running":
        lines = ["State:          Running", "  Started:      Mon, 18 Nov 2024 09:12:44 +0000"]
    elif container.state == "waiting":
        lines = ["State:          Waiting", f"  Reason:       {container.reason or 'ContainerCreating'}"]
        if container.message:
            lines.append(f"  Message:      {container.message}")
    else:
        lines = ["State:          Terminated", f"  Reason:       {container.reason or 'Completed'}",
                 f"  Exit Code:    {container.exit_code if container.exit_code is not None else 0}"]
    if container.last_reason:
        lines += ["Last State:     Terminated", f"  Reason:       {container.last_reason}",
                  f"  Exit Code:    {container.last_exit_code if container.last_exit_code is not None else 1}",
                  "  Started:      Mon, 18 Nov 2024 09:40:02 +0000",
                  "  Finished:     Mon, 18 Nov 2024 09:40:31 +0000"]
    return lines


def _container_block(container: Container) -> list[str]:
    lines = [f"{container.name}:", f"  Image:          {container.image}"]
    if container.ports:
        lines.append(f"  Port:           {', '.join(f'{port}/TCP' for port in container.ports)}")
    lines += [f"  {line}" for line in _container_state(container)]
    lines += [f"  Ready:          {'True' if container.is_ready else 'False'}",
              f"  Restart Count:  {container.restarts}"]
    for title, values in (("Limits", container.limits), ("Requests", container.requests)):
        if values:
            lines.append(f"  {title}:")
            lines += fields(values.items(), indent=4, width=8)
    if container.liveness:
        lines.append(f"  Liveness:       {container.liveness}")
    if container.readiness:
        lines.append(f"  Readiness:      {container.readiness}")
    if container.env or container.env_from:
        if container.env_from:
            lines.append("  Environment Variables from:")
            lines += [f"    {name}  ConfigMap  Optional: false" for name in container.env_from]
        lines.append("  Environment:")
        lines += fields(container.env.items(), indent=4)
    else:
        lines.append(f"  Environment:    {NONE}")
    lines.append("  Mounts:")
    mounts = container.mounts or ["/var/run/secrets/kubernetes.io/serviceaccount from kube-api-access (ro)"]
    lines += [f"    {mount}" for mount in mounts]
    return lines


def describe_pod(pod: Pod, ip: str, controlled_by: str | None, events: Sequence[Event], pod_conditions: Sequence[tuple[str, str]]) -> str:
    lines = [
        f"Name:             {pod.name}",
        f"Namespace:        {pod.namespace}",
        "Priority:         0",
        f"Service Account:  {pod.service_account}",
        f"Node:             {pod.node + '/' + _node_ip(pod.node) if pod.node else NONE}",
        "Start Time:       Mon, 18 Nov 2024 09:12:40 +0000" if pod.node else "",
        *_label_lines("Labels", pod.labels, 18),
        f"Annotations:      {NONE}",
        f"Status:           {pod.phase if not pod.status else pod.status}",
        f"IP:               {ip}",
        f"Controlled By:    {controlled_by}" if controlled_by else "",
        "Containers:",
    ]
    for container in pod.containers:
        lines += [f"  {line}" for line in _container_block(container)]
    lines.append("Conditions:")
    lines.append("  Type                        Status")
    lines += [f"  {kind.ljust(28)}{status}" for kind, status in pod_conditions]
    if pod.claims:
        lines.append("Volumes:")
        for claim in pod.claims:
            lines += [f"  {claim}:", "    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
                      f"    ClaimName:  {claim}", "    ReadOnly:   false"]
    lines.append(f"QoS Class:        {_qos(pod)}")
    node_selectors = [f"{k}={v}" for k, v in pod.node_selector.items()] or [NONE]
    lines.append(f"Node-Selectors:   {node_selectors[0]}")
    lines += [" " * 18 + extra for extra in node_selectors[1:]]
    lines.append("Tolerations:      node.kubernetes.io/not-ready:NoExecute op=Exists for 300s")
    lines.append("                  node.kubernetes.io/unreachable:NoExecute op=Exists for 300s")
    lines += events_section(events)
    return "\n".join(line for line in lines if line != "")


def _qos(pod: Pod) -> str:
    if all(c.limits and c.limits == c.requests for c in pod.containers):
        return "Guaranteed"
    if any(c.limits or c.requests for c in pod.containers):
        return "Burstable"
    return "BestEffort"


def _node_ip(name: str) -> str:
    match = re.search(r"(\d+)$", name)
    return f"10.0.1.{10 + int(match.group(1)) if match else 50}"


def node_ip(node: Node) -> str:
    return node.internal_ip or _node_ip(node.name)


def parse_quantity(text: str) -> float:
    """CPU in cores or memory in bytes from ``500m``, ``2``, ``512Mi``, ``16Gi``."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text.strip())
    if not match:
        return 0.0
    return float(match.group(1)) * units.get(match.group(2), 1.0)


def percent(used: str, total: str) -> str:
    capacity = parse_quantity(total)
    return f"{round(100 * parse_quantity(used) / capacity)}%" if capacity else "0%"


def node_conditions(node: Node) -> list[Condition]:
    if node.conditions:
        return list(node.conditions)
    if node.status != "Ready":
        unknown = dict(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.", age="6m")
        return [Condition(type=kind, **unknown) for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
    healthy = {
        "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    }
    conditions = [Condition(type=kind, status="False", reason=reason, message=message, age="41d") for kind, (reason, message) in healthy.items()]
    conditions.append(Condition(type="Ready", status="True", reason="KubeletReady", message="kubelet is posting ready status", age="41d"))
    return conditions


def describe_node(node: Node, pods: Sequence[Pod], events: Sequence[Event]) -> str:
    labels = {"kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux", **node.labels}
    lines = [f"Name:               {node.name}", f"Roles:              {node.roles}", *_label_lines("Labels", labels, 20),
             f"Annotations:        {NONE}", "CreationTimestamp:  Mon, 07 Oct 2024 08:00:00 +0000",
             f"Taints:             {node.taints[0] if node.taints else NONE}"]
    lines += [" " * 20 + taint for taint in node.taints[1:]]
    lines += [f"Unschedulable:      {'true' if any('unschedulable' in t for t in node.taints) else 'false'}", "Conditions:"]
    condition_rows = [[c.type, c.status, "Mon, 18 Nov 2024 09:58:00 +0000", c.reason, c.message] for c in node_conditions(node)]
    lines += ["  " + line for line in table(["Type", "Status", "LastHeartbeatTime", "Reason", "Message"],
                                            [["----", "------", "-----------------", "------", "-------"], *condition_rows]).splitlines()]
    lines += ["Addresses:", f"  InternalIP:  {node_ip(node)}", f"  Hostname:    {node.name}",
              "Capacity:", f"  cpu:     {node.cpu}", f"  memory:  {node.memory}", "  pods:    110",
              "Allocatable:", f"  cpu:     {node.cpu}", f"  memory:  {node.memory}", "  pods:    110",
              "System Info:", f"  Kubelet Version:  {node.version}", "  Container Runtime Version:  containerd://1.7.13",
              f"Non-terminated Pods:          ({len(pods)} in total)"]
    pod_rows = [[p.namespace, p.name, *_pod_requests(p), p.age] for p in pods]
    lines += ["  " + line for line in table(["Namespace", "Name", "CPU Requests", "Memory Requests", "Age"],
                                            [["---------", "----", "------------", "---------------", "---"], *pod_rows]).splitlines()]
    cpu = node.allocated.get("cpu", "0")
    memory = node.allocated.get("memory", "0")
    lines += ["Allocated resources:", "  (Total limits may be over 100 percent, i.e., overcommitted.)",
              "  Resource           Requests", "  --------           --------",
              f"  cpu                {cpu} ({percent(cpu, node.cpu)})",
              f"  memory             {memory} ({percent(memory, node.memory)})"]
    lines += events_section(events)
    return "\n".join(lines)


def _pod_requests(pod: Pod) -> list[str]:
    cpu = sum(parse_quantity(c.requests.get("cpu", "0")) for c in pod.containers)
    memory = sum(parse_quantity(c.requests.get("memory", "0")) for c in pod.containers)
    return [f"{round(cpu * 1000)}m" if cpu else "0 (0%)", f"{round(memory / 2**20)}Mi" if memory else "0 (0%)"]


def describe_resource(resource: Resource, events: Sequence[Event]) -> str:
    header: list[tuple[str, Any]] = [("Name", resource.name)]
    if resource.namespace:
        header.append(("Namespace", resource.namespace))
    lines = fields(header, width=14)
    lines += _label_lines("Labels", resource.labels, 14)
    lines += fields([("Annotations", NONE), ("API Version", resource.api_version), ("Kind", resource.kind)], width=14)
    details = dict(resource.details)
    custom = _is_custom(resource)
    status = details.pop("Status", None) if custom and resource.conditions else None
    lines += fields(details.items())
    if resource.conditions:
        if custom:  # custom resources show their conditions under Status, as kubectl does
            lines.append("Status:")
            if isinstance(status, Mapping):
                lines += fields(status.items(), indent=2)
            lines.append("  Conditions:")
        else:
            lines.append("Conditions:")
        pad = "    " if custom else "  "
        for condition in resource.conditions:
            lines += [f"{pad}Type:     {condition.type}", f"{pad}Status:   {condition.status}"]
            if condition.reason:
                lines.append(f"{pad}Reason:   {condition.reason}")
            if condition.message:
                lines.append(f"{pad}Message:  {condition.message}")
    lines += events_section(events)
    return "\n".join(lines)


def _is_custom(resource: Resource) -> bool:
    return "." in resource.api_version.split("/")[0] and not resource.api_version.startswith(("apps/", "batch/"))
