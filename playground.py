"""Gradio playground: chat with the Kubernetes investigation agent, and try the micro parser.

``build_demo(url)`` returns the Blocks; ``workbench playground`` serves it on 127.0.0.1. The agent
tab streams every step of the investigation into the chat as it happens. The micro parser tab
appears when ``optimizer.intents`` offers a ``parse`` function; until then it says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from optimizer.agent.config import named_config
from optimizer.agent.loop import AgentRun
from optimizer.agent.scenarios import load_scenario, load_scenarios, neutral_choices
from optimizer.agent.trace import format_answer, format_step
from optimizer.serving.endpoint import current_server_url
from optimizer.errors import WorkbenchError
from optimizer.intents import IntentParser, ParseResult
from optimizer.serving.endpoint import client_for

ChatMessages = list[dict[str, Any]]


async def parse_command(text: str, url: str | None) -> ParseResult:
    """The micro parser: rules only when ``url`` is None, else rules first and the model when unsure."""
    if url is None:
        return await IntentParser().parse(text)
    async with client_for(url) as client:
        return await IntentParser(client).parse(text)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def build_demo(url: str | None = None) -> gr.Blocks:
    scenarios = load_scenarios()
    choices = neutral_choices(scenarios)  # labels that do not name the root cause

    async def investigate(scenario_id: str, question: str, config_name: str) -> AsyncIterator[ChatMessages]:
        scenario = load_scenario(scenario_id)
        asked = question.strip() or scenario.question
        messages: ChatMessages = [{"role": "user", "content": asked}]
        yield messages
        server = url or current_server_url()
        if server is None:
            messages.append({"role": "assistant", "content": "No model server: start one with `workbench model serve`."})
            yield messages
            return
        try:
            config = named_config(config_name)
            async with client_for(server) as client:
                run = AgentRun(client, scenario, config, question=asked)
                async for step in run.steps():
                    messages.append({"role": "assistant", "content": f"```\n{format_step(step)}\n```",
                                     "metadata": {"title": f"Step {step.number} · {step.state} · {step.tool_call or 'no tool call'}"}})
                    yield messages
            messages.append({"role": "assistant", "content": format_answer(run.investigation)})
        except WorkbenchError as exc:
            messages.append({"role": "assistant", "content": f"error: {exc}"})
        yield messages

    async def parse_text(text: str, use_model: bool) -> str:
        try:
            result = await parse_command(text, (url or current_server_url()) if use_model else None)
        except WorkbenchError as exc:
            return json.dumps({"error": str(exc)})
        return json.dumps(_jsonable(result), indent=2, ensure_ascii=False, default=str)

    with gr.Blocks(title="Prompt Workbench playground") as demo:
        gr.Markdown("# Prompt Workbench playground")
        with gr.Tab("Kubernetes agent"):
            with gr.Row():
                scenario = gr.Dropdown(choices=choices, value=choices[0][1], label="Scenario (a simulated cluster)")
                config = gr.Radio(["optimized", "baseline"], value="optimized", label="Configuration")
            with gr.Row(equal_height=True):
                question = gr.Textbox(label="Question", placeholder="Leave empty to ask the scenario's own question", scale=5)
                run_button = gr.Button("Investigate", variant="primary", scale=1)  # above the chat: visible without scrolling
            chat = gr.Chatbot(label="Investigation", height=520)
            run_button.click(investigate, inputs=[scenario, question, config], outputs=chat, api_name="investigate")
            question.submit(investigate, inputs=[scenario, question, config], outputs=chat, api_name=False)
        with gr.Tab("Micro parser"):
            gr.Markdown("Natural-language infrastructure commands to JSON intents (rules first, the small model "
                        "when the rules are unsure).")
            text = gr.Textbox(label="Command", placeholder="Add DNS record api.local to 10.0.0.5")
            use_model = gr.Checkbox(value=True, label="Use the model server (off: rules only)")
            parsed = gr.Code(label="Intent", language="json")
            gr.Button("Parse", variant="primary").click(parse_text, inputs=[text, use_model], outputs=parsed, api_name="parse")
            text.submit(parse_text, inputs=[text, use_model], outputs=parsed, api_name=False)
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the playground on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--url", default=None, help="OpenAI-compatible model server (default: the running one).")
    args = parser.parse_args()
    build_demo(args.url).launch(server_name="127.0.0.1", server_port=args.port)


if __name__ == "__main__":
    main()
