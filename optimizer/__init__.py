"""Prompt Workbench core library: optimize prompts for small local models. Never imports a UI.

The runtime side that production code uses is re-exported here:
``load_prompt(task, version="latest")`` and ``render(prompt, **inputs)``.
"""

from optimizer.prompts.versions import load_prompt
from optimizer.prompts.templates import PromptTemplate, render

__all__ = ["PromptTemplate", "load_prompt", "render"]
