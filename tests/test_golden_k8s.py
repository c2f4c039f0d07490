"""The k8s golden dataset meets its contract: size, mix of cases, labels and a fixed split."""

from __future__ import annotations

from collections import Counter

from optimizer.runner import load_task_dataset
from optimizer.task import load_task

FAILURE_KINDS = {
    "oomkilled", "crashloopbackoff", "imagepullbackoff", "liveness_probe_failure", "readiness_probe_failure",
    "failed_scheduling", "failed_mount_pvc_pending", "node_not_ready", "node_disk_pressure", "eviction",
    "expired_certificate", "dns_resolution_failure", "database_connection_refused", "ingress_5xx_burst",
    "hpa_missing_metrics",
}


def test_size_mix_and_labels() -> None:
    dataset = load_task_dataset(load_task("k8s_log_analysis"))
    examples = dataset.examples
    assert len(examples) >= 150
    categories = Counter(example.inputs["category"] for example in examples)
    failures = sum(count for name, count in categories.items() if name in FAILURE_KINDS)
    benign = categories["benign"]
    hard = sum(count for name, count in categories.items() if name.startswith("hard_negative"))
    assert failures + benign + hard == len(examples)
    assert len([name for name in categories if name in FAILURE_KINDS]) >= 12
    assert 0.35 <= failures / len(examples) <= 0.45
    assert 0.25 <= benign / len(examples) <= 0.35 and 0.25 <= hard / len(examples) <= 0.35
    for example in examples:
        assert set(example.expected) == {"root_cause", "severity", "action_required"}
        assert example.expected["severity"] in {"info", "warning", "error", "critical"}
        assert example.expected["action_required"] in {"yes", "no"}
        assert 3 <= len(example.inputs["logs"].splitlines()) <= 15
        assert example.inputs["namespace"] and example.inputs["time_range"]
        if example.inputs["category"] in FAILURE_KINDS:
            assert example.expected["action_required"] == "yes"
        else:
            assert example.expected["action_required"] == "no"


def test_fixed_split_covers_every_category() -> None:
    dataset = load_task_dataset(load_task("k8s_log_analysis"))
    assert len(dataset.train) == 60 and len(dataset.validation) == len(dataset.examples) - 60
    train_categories = {example.inputs["category"] for example in dataset.train}
    validation_categories = {example.inputs["category"] for example in dataset.validation}
    assert train_categories == validation_categories
