"""The Vega-Lite specifications of the reports' charts, made from the same tables the page prints beside them
(each chart is a picture of its table; the table is what a screen reader reads)."""

from __future__ import annotations

from typing import Any

from engine.reports.figures import Table
from engine.reports.stalls import Stall

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
COLOURS = ["#1d70b8", "#b1b4b6"]  # this period, the previous one
HEAT = ["#f3f2f1", "#ffdd00", "#f47738", "#d4351c", "#942514"]


def _base(table: Table, values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "description": table.title, "data": {"values": values}, "width": 300,
            "config": {"font": "Arial, sans-serif", "axis": {"labelLimit": 200, "labelFontSize": 12},
                       "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 320,
                                  "labelFontSize": 12}}}


def spec(table: Table) -> dict[str, Any]:
    if table.chart == "matrix":
        values = [{"raising": row[0], "receiving": column, "count": count}
                  for row in table.rows for column, count in zip(table.columns[1:-1], row[1:-1], strict=True)]
        return {**_base(table, values), "height": {"step": 32},
                "encoding": {"x": {"field": "receiving", "type": "nominal", "title": "Receiving agency"},
                             "y": {"field": "raising", "type": "nominal", "title": "Raising agency"}},
                "layer": [{"mark": "rect", "encoding": {"color": {"field": "count", "type": "quantitative",
                                                                  "title": "Challenges",
                                                                  "scale": {"scheme": "blues"}}}},
                          {"mark": {"type": "text"}, "encoding": {"text": {"field": "count", "type": "quantitative"}}}]}
    if table.chart == "medians":
        values = [{"what": row[0], "measure": measure, "days": row[index]}
                  for row in table.rows for measure, index in (("Median", 1), ("90th percentile", 2))
                  if row[index] is not None]
        return {**_base(table, values), "height": {"step": 14}, "mark": "bar",
                "encoding": {"y": {"field": "what", "type": "nominal", "title": None, "sort": None},
                             "yOffset": {"field": "measure"},
                             "x": {"field": "days", "type": "quantitative", "title": "Working days"},
                             "color": {"field": "measure", "title": None, "scale": {"range": COLOURS}}}}
    if table.chart == "deadlines":
        values = [{"stage": row[0], "result": result, "count": row[index]}
                  for row in table.rows for result, index in (("Met", 1), ("Missed", 2), ("Not yet due", 3))]
        return {**_base(table, values), "height": {"step": 24}, "mark": "bar",
                "encoding": {"y": {"field": "stage", "type": "nominal", "title": None, "sort": None},
                             "x": {"field": "count", "type": "quantitative", "title": "Deadlines", "stack": True},
                             "color": {"field": "result", "title": None, "sort": ["Met", "Missed", "Not yet due"],
                                       "scale": {"domain": ["Met", "Missed", "Not yet due"],
                                                 "range": ["#00703c", "#d4351c", "#b1b4b6"]}}}}
    periods = table.columns[1:3]
    values = [{"what": str(row[0]), "period": period, "count": count}
              for row in table.rows for period, count in zip(periods, row[1:3], strict=True)]
    return {**_base(table, values), "height": {"step": 14}, "mark": "bar",
            "encoding": {"y": {"field": "what", "type": "nominal", "title": None, "sort": None},
                         "yOffset": {"field": "period", "sort": periods},
                         "x": {"field": "count", "type": "quantitative", "title": "Challenges"},
                         "color": {"field": "period", "title": None, "sort": periods,
                                   "scale": {"domain": periods, "range": COLOURS}}}}


def heat(found: list[Stall]) -> dict[str, dict[str, Any]]:
    """Each task's band on the diagram (0 fastest to 4 slowest, by median working days against the slowest
    task's) and the words its overlay shows."""
    slowest = max((s.median_days or 0 for s in found), default=0)
    out = {}
    for stall in found:
        band = 0 if not slowest or stall.median_days is None else min(4, round(4 * stall.median_days / slowest))
        share = stall.missed_share
        out[stall.bpmn_id] = {"band": band, "colour": HEAT[band],
                              "label": f"{'-' if stall.median_days is None else stall.median_days} d"
                                       f"{'' if share is None else f' · {share:.0%} late'}"}
    return out
