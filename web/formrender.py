"""JSON Schema forms to accessible HTML fields, and posted HTML fields back to typed answers."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def fields(schema: dict[str, Any], values: dict[str, Any] | None = None,
           errors: dict[str, str] | None = None, choices: dict[str, list[tuple[Any, str]]] | None = None
           ) -> list[dict[str, Any]]:
    """One dict per property, in schema order, with what the `_form.html` macro needs to draw it."""
    values, errors, choices = values or {}, errors or {}, choices or {}
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type")
        if name in choices:
            widget, options = "select", choices[name]
        elif "enum" in prop:
            labels = prop.get("x-labels", {})
            widget, options = "radio", [(v, labels.get(v, v)) for v in prop["enum"]]
        elif kind == "boolean":
            widget, options = "radio", [(True, "Yes"), (False, "No")]
        elif prop.get("format") == "date":
            widget, options = "date", []
        elif prop.get("x-widget") == "textarea":
            widget, options = "textarea", []
        else:
            widget, options = "text", []
        out.append({
            "name": name,
            "label": prop.get("title", name),
            "hint": prop.get("description"),
            "widget": widget,
            "options": options,
            "required": name in required,
            "value": values.get(name),
            "error": errors.get(name),
            "maxlength": prop.get("maxLength"),
        })
    return out


def answers(schema: dict[str, Any], form: MultiDict) -> dict[str, Any]:
    """Typed answers from a posted form. Empty optional fields are left out; values that do not convert are
    passed on as text so the schema check names the field."""
    result: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        raw = form.get(name)
        if raw is None:
            continue
        raw = raw.strip()
        if raw == "":
            continue
        kind = prop.get("type")
        if kind == "boolean":
            result[name] = {"true": True, "false": False}.get(raw, raw)
        elif kind == "integer":
            # Only ASCII digits: str.isdigit() also accepts "²" and other digits int() refuses.
            result[name] = int(raw) if _WHOLE_NUMBER.fullmatch(raw) else raw
        else:
            result[name] = raw
    return result
