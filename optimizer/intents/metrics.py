"""The intent parser's whole-record metric, registered by ``optimizer.intents.plugin``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optimizer.intents.models import is_valid_intent
from optimizer.tasks.metrics import metric


@metric("intent_schema_valid")
def intent_schema_valid(expected: Any, predicted: Any) -> float:
    """1.0 when the predicted record is a valid intent; a whole-record
    metric that ignores ``expected``."""
    return 1.0 if is_valid_intent(dict(predicted) if isinstance(predicted, Mapping) else predicted) else 0.0
