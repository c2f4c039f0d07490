"""Plain-text rendering of a trace, shared by the CLI and the Gradio playground."""

from __future__ import annotations

from .loop import Investigation, Step


def format_step(step: Step, *, output_chars: int = 1500) -> str:
    lines = [f"step {step.number} [{step.state}]"]
    if step.model_calls:
        lines.append(f"  model said: {step.raw_output.strip()[:400]}")
    for note in step.notes:
        lines.append(f"  note: {note}")
    if step.requested and step.requested != step.tool_call:
        lines.append(f"  requested: {step.requested[:200]}")
    if step.mapped_from:
        lines.append(f"  mapped: {step.mapped_from} -> {step.tool_call}")
    if step.fallback:
        lines.append(f"  fallback: {step.fallback}")
    if step.refused:
        lines.append(f"  refused: {step.refused}")
    if step.tool_call:
        lines.append(f"  tool call: {step.tool_call}")
        output = step.tool_output if len(step.tool_output) <= output_chars else step.tool_output[:output_chars] + " ..."
        lines += [f"    | {line}" for line in output.splitlines()]
    if step.answer is not None:
        lines.append(f"  answer ({step.answered_by}): ROOT CAUSE: {step.answer.root_cause} CULPRIT: {step.answer.culprit}")
    return "\n".join(lines)


def format_answer(investigation: Investigation) -> str:
    answer = investigation.answer
    if answer is None:
        return f"no answer ({investigation.stop_reason})"
    return (f"ANSWER ({investigation.answered_by}): ROOT CAUSE: {answer.root_cause} CULPRIT: {answer.culprit}\n"
            f"{len(investigation.steps)} steps, {investigation.model_calls} model calls, "
            f"{investigation.prompt_tokens + investigation.completion_tokens:,} tokens; {investigation.stop_reason}")
