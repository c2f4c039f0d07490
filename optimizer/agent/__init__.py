"""A Kubernetes investigation agent for small models, on a simulated cluster, with an A/B harness.

The data flow reads top to bottom, one module per step:

| step | module |
| --- | --- |
| scenario files (golden/agent_scenarios/*.yaml) -> validated scenarios | ``scenarios.py`` |
| a scenario -> kubectl-looking text, without spawning a process | ``cluster.py``, ``describe.py`` |
| read-only kubectl command checking (shlex, verbs, flags, names) | ``kubectl.py`` |
| the five core tools and the legacy-tool mapping | ``tools.py`` |
| tool output in explicit vocabulary, reduced to what fits | ``render.py`` |
| a model reply -> tool call or answer (format enforcer, placeholders) | ``protocol.py`` |
| states, keyword fallback, evidence-based diagnosis | ``policy.py`` |
| the two configurations (baseline, optimized) and their prompts | ``config.py`` |
| the agent loop and its step-by-step trace | ``loop.py`` |
| A/B harness: both configurations over every scenario, the table | ``harness.py`` |
| the optimizer task: executor and golden dataset generation | ``executor.py``, ``golden.py`` |
| ``workbench agent ...`` and ``workbench playground`` | ``commands.py`` |

Nothing here imports streamlit or gradio, and nothing here starts a process.
"""
