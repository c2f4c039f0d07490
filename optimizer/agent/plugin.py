"""What the agent feature adds to the workbench, registered in ``optimizer.plugins``.

Named by the ``agent`` entry point of the ``prompt_workbench.plugins`` group: its metrics, the
``k8s_agent`` executor (one golden example is one whole investigation) and its CLI commands.
"""

from __future__ import annotations

from optimizer import plugins
from optimizer.agent import metrics  # noqa: F401  (registers agent_root_cause, agent_culprit, ...)
from optimizer.agent.commands import agent, playground
from optimizer.agent.executor import run_example

plugins.executors.register("k8s_agent", run_example)
plugins.commands.register("agent", agent)
plugins.commands.register("playground", playground)
