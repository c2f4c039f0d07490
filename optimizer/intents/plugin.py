"""What the intents feature adds to the workbench, registered in ``optimizer.plugins``.

Named by the ``intents`` entry point of the ``prompt_workbench.plugins`` group: the
``intent_schema_valid`` metric, the ``intent_span_chat`` and ``route_retrieval_chat`` executors and the ``parse``,
``eval-parser`` and ``eval-router`` commands.
"""

from __future__ import annotations

from optimizer import plugins
from optimizer.intents import metrics  # noqa: F401  (registers intent_schema_valid)
from optimizer.intents.commands import COMMANDS
from optimizer.intents.workbench import retrieved_shots_chat, span_constrained_chat

plugins.executors.register("intent_span_chat", span_constrained_chat)
plugins.executors.register("route_retrieval_chat", retrieved_shots_chat)
for command in COMMANDS:
    plugins.commands.register(command.name, command)
