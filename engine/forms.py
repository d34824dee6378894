"""Task forms are JSON Schema documents; answers are validated on the server with `jsonschema`."""

from __future__ import annotations

from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from .errors import Invalid
from .text import UNSTORABLE_MESSAGE, unstorable_paths

FORMAT_CHECKER = FormatChecker()


def check_schema(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)


def _message(error) -> str:
    field_schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        return "This answer is required."
    if error.validator == "enum":
        return "Choose one of the options."
    if error.validator == "minLength":
        return "This answer is required."
    if error.validator == "maxLength":
        return f"Keep this under {error.validator_value} characters."
    if error.validator == "format" and field_schema.get("format") == "date":
        return "Enter a date as YYYY-MM-DD."
    if error.validator == "pattern" and field_schema.get("x-pattern-message"):
        return str(field_schema["x-pattern-message"])
    if error.validator == "type":
        return f"Expected {error.validator_value}."
    if error.validator == "additionalProperties":
        return "Unexpected answer."
    return error.message


def validate(schema: dict[str, Any], answers: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Return the answers if they satisfy the schema, else raise `Invalid` with one message per field.
    `today` (the caller's clock, in the partnership's zone) bounds fields marked `x-not-future`."""
    if not isinstance(answers, dict):
        raise Invalid({"_form": "Answers must be an object."})
    errors: dict[str, str] = {path.split(".")[0].split("[")[0]: UNSTORABLE_MESSAGE
                              for path in unstorable_paths(answers)}
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    for error in validator.iter_errors(answers):
        if error.validator == "required":
            field = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            extras = sorted(set(answers) - set(schema.get("properties", {})))
            for extra in extras:
                errors.setdefault(extra, "Unexpected answer.")
            continue
        else:
            field = error.path[0] if error.path else "_form"
        errors.setdefault(str(field), _message(error))
    for name, prop in schema.get("properties", {}).items():
        if today and prop.get("x-not-future") and isinstance(answers.get(name), str) and name not in errors:
            try:
                if date.fromisoformat(answers[name]) > today:
                    errors[name] = "This date cannot be in the future."
            except ValueError:
                errors[name] = "Enter a date as YYYY-MM-DD."
    if errors:
        raise Invalid(errors)
    return answers
