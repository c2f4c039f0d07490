"""Charts for comparisons, as Vega-Lite specs (plain dicts with their data inline): Streamlit draws
them with ``st.vega_lite_chart``, and any page with vega-embed can show the same spec.

Vega-Lite, not Plotly: the browser's Plotly bundle is 4.7 MB of JavaScript, and evaluating it made
the first Compare open 1-2 s slower (measured with bench/ui_scale.py in chromium); Streamlit's
Vega-Lite chunk is a sixth of that. Building a dict also costs the server nothing, where Plotly's
figure validation took 0.2-0.5 s on a page's first run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from optimizer.analysis.compare import pareto_front

Spec = dict[str, Any]


def records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (NaN and infinities as null: JSON has neither)."""
    def clean(value: Any) -> Any:
        if hasattr(value, "item"):
            value = value.item()
        return None if isinstance(value, float) and not math.isfinite(value) else value
    return [{column: clean(value) for column, value in zip(columns, row)} for row in frame[list(columns)].itertuples(index=False)]


def _interval_layers(x: str, y_title: str, domain: Sequence[float] | None, colour: Spec | None, offset: Spec | None) -> list[Spec]:
    """Bars of ``mean`` with a whisker from ``low`` to ``high``."""
    y: Spec = {"field": "mean", "type": "quantitative", "title": y_title}
    if domain is not None:
        y["scale"] = {"domain": list(domain)}
    bar: Spec = {"x": {"field": x, "type": "nominal", "title": None, "sort": None}, "y": y,
                 "tooltip": [{"field": x, "type": "nominal"}, {"field": "mean", "format": ".3f"},
                             {"field": "low", "format": ".3f"}, {"field": "high", "format": ".3f"}, {"field": "n"}]}
    whisker: Spec = {"x": {"field": x, "type": "nominal", "sort": None}, "y": {"field": "low", "type": "quantitative"},
                     "y2": {"field": "high"}}
    if colour is not None:
        bar["color"] = colour
        bar["tooltip"].insert(0, {"field": colour["field"], "type": "nominal"})
    if offset is not None:
        bar["xOffset"] = whisker["xOffset"] = offset
    return [{"mark": {"type": "bar", "clip": True}, "encoding": bar},
            {"mark": {"type": "rule", "clip": True, "color": "black"}, "encoding": whisker}]


def metric_bars(intervals: pd.DataFrame) -> Spec:
    """Grouped bars: one group per field, one bar per candidate, 95% CI whiskers."""
    candidates = list(dict.fromkeys(intervals["candidate"]))
    by_candidate: Spec = {"field": "candidate", "type": "nominal", "sort": candidates}
    colour = {**by_candidate, "title": None, "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 0}}
    return {
        "title": "Per-field scores on the examples they share (95% bootstrap CI; n in the legend)",
        "data": {"values": records(intervals, ["candidate", "field", "mean", "low", "high", "n"])},
        "height": 300,
        "layer": _interval_layers("field", "score", (0, 1.05), colour, by_candidate),
        "config": {"axisX": {"labelAngle": 0}},
    }


def factor_effect_chart(effects: pd.DataFrame) -> Spec:
    """Mean overall per level of each dimension, one panel per dimension, with CIs."""
    dimensions = list(dict.fromkeys(effects["dimension"]))
    columns = ["dimension", "level", "mean", "low", "high", *(["n"] if "n" in effects else [])]
    return {
        "title": "Factor effects: mean overall score per level (95% CI over candidates)",
        "data": {"values": records(effects, columns)},
        "facet": {"column": {"field": "dimension", "type": "nominal", "sort": dimensions, "title": None}},
        "spec": {"height": 260, "layer": _interval_layers("level", "mean overall", None, None, None)},
        "resolve": {"scale": {"x": "independent"}},
    }


def pareto_chart(table: pd.DataFrame, cost: str, cost_label: str) -> Spec:
    """Overall score against a cost, with the Pareto front highlighted and joined."""
    usable = table.dropna(subset=[cost, "overall"])
    points = usable.assign(front=pareto_front(usable, cost)).sort_values(cost)
    x = {"field": cost, "type": "quantitative", "title": cost_label, "scale": {"zero": False}}
    y = {"field": "overall", "type": "quantitative", "title": "overall", "scale": {"zero": False}}
    tooltip = [{"field": "candidate_id"}, {"field": cost, "format": ".3f"}, {"field": "overall", "format": ".3f"}]
    return {
        "title": f"Overall vs {cost_label} (red: the Pareto front)",
        "data": {"values": records(points, ["candidate_id", cost, "overall", "front"])},
        "height": 320,
        "layer": [
            {"transform": [{"filter": "!datum.front"}], "mark": {"type": "point", "filled": True, "color": "lightgray", "size": 60},
             "encoding": {"x": x, "y": y, "tooltip": tooltip}},
            {"transform": [{"filter": "datum.front"}], "mark": {"type": "line", "point": {"size": 90, "color": "crimson"},
                                                                "color": "crimson"},
             "encoding": {"x": x, "y": y, "order": {"field": cost}, "tooltip": tooltip}},
        ],
    }
