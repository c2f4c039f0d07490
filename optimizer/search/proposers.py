"""The strategies that write prompts, registered by name (a ``prompt_workbench.plugins`` module).

Importing this module imports neither ``gepa`` nor ``dspy``: each strategy imports its library when
it searches, so listing strategies (CLI help, the Run page) stays fast.
"""

from __future__ import annotations

from optimizer import plugins
from optimizer.search.dspy_search import DspyStrategy
from optimizer.search.gepa_search import Gepa

PROPOSING_STRATEGIES = ("gepa", "dspy-bootstrap", "dspy-mipro")

plugins.strategies.register(Gepa.name, Gepa())
plugins.strategies.register("dspy-bootstrap", DspyStrategy("dspy-bootstrap"))
plugins.strategies.register("dspy-mipro", DspyStrategy("dspy-mipro"))
