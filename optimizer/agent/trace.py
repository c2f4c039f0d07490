"""Plain-text rendering of a trace, shared by the CLI and the Gradio playground."""

from __future__ import annotations

from optimizer.agent.loop import Investigation, Step


def step_signals(step: Step) -> list[tuple[str, str]]:
    """What fired in a step, in order, as (kind, text): note, requested, mapped, fallback, refused."""
    signals = [("note", note) for note in step.notes]
    if step.requested and step.requested != step.tool_call:
        signals.append(("requested", step.requested[:200]))
    if step.mapped_from:
        signals.append(("mapped", f"{step.mapped_from} -> {step.tool_call}"))
    if step.fallback:
        signals.append(("fallback", step.fallback))
    if step.refused:
        signals.append(("refused", step.refused))
    return signals


def format_step(step: Step, *, output_chars: int = 1500) -> str:
    lines = [f"step {step.number} [{step.state}]"]
    if step.model_calls:
        lines.append(f"  model said: {step.raw_output.strip()[:400]}")
    lines += [f"  {kind}: {text}" for kind, text in step_signals(step)]
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
