"""Plotly figures for comparisons. Plotly, not Streamlit: the CLI can write these as HTML too."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optimizer.analysis.compare import pareto_front


def metric_bars(intervals: pd.DataFrame) -> go.Figure:
    """Grouped bars: one group per field, one bar per candidate, 95% CI whiskers."""
    figure = go.Figure()
    for candidate, group in intervals.groupby("candidate", sort=False):
        figure.add_bar(
            name=str(candidate),
            x=group["field"],
            y=group["mean"],
            error_y={"type": "data", "symmetric": False, "array": group["high"] - group["mean"], "arrayminus": group["mean"] - group["low"]},
        )
    figure.update_layout(barmode="group", yaxis={"range": [0, 1.05], "title": "score"}, title="Per-field scores on the examples they share (95% bootstrap CI; n in the legend)",
                         legend={"orientation": "h"}, height=380, margin={"t": 50, "b": 20})
    return figure


def factor_effect_chart(effects: pd.DataFrame) -> go.Figure:
    """Mean overall per level of each dimension, one panel per dimension, with CIs."""
    dimensions = list(dict.fromkeys(effects["dimension"]))
    figure = make_subplots(rows=1, cols=max(len(dimensions), 1), subplot_titles=dimensions, shared_yaxes=True)
    for column, dimension in enumerate(dimensions, start=1):
        group = effects[effects["dimension"] == dimension]
        figure.add_bar(
            x=group["level"], y=group["mean"], showlegend=False, row=1, col=column,
            error_y={"type": "data", "symmetric": False, "array": group["high"] - group["mean"], "arrayminus": group["mean"] - group["low"]},
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    figure.update_layout(title="Factor effects: mean overall score per level (95% CI over candidates)", height=360,
                         margin={"t": 70, "b": 20})
    return figure


def pareto_chart(table: pd.DataFrame, cost: str, cost_label: str) -> go.Figure:
    """Overall score against a cost, with the Pareto front highlighted and joined."""
    usable = table.dropna(subset=[cost, "overall"])
    front = pareto_front(usable, cost)
    figure = go.Figure()
    figure.add_scatter(x=usable.loc[~front, cost], y=usable.loc[~front, "overall"], mode="markers", name="candidates",
                       text=usable.loc[~front, "candidate_id"], marker={"color": "lightgray", "size": 8})
    on_front = usable[front].sort_values(cost)
    figure.add_scatter(x=on_front[cost], y=on_front["overall"], mode="lines+markers", name="Pareto front",
                       text=on_front["candidate_id"], marker={"color": "crimson", "size": 10})
    figure.update_layout(xaxis_title=cost_label, yaxis_title="overall", title=f"Overall vs {cost_label}", height=360,
                         margin={"t": 50, "b": 20})
    return figure
