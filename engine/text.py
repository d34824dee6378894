"""Text the database can keep: no NUL character (PostgreSQL's text refuses it) and no lone surrogate (it is not
Unicode and cannot be encoded as UTF-8)."""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_MESSAGE = "This contains characters that cannot be kept (a NUL character or a broken one)."


def storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def cleaned(value: str, limit: int | None = None) -> str:
    """The text with what cannot be kept replaced, cut at `limit` characters (for names given at a login)."""
    value = _UNSTORABLE.sub("\ufffd", value)
    return value[:limit] if limit is not None else value


def unstorable_paths(value: Any, path: str = "", depth: int = 0) -> list[str]:
    """Where in a JSON value (keys and strings, however nested) there is text that cannot be kept."""
    if isinstance(value, str):
        return [] if storable(value) else [path or "_body"]
    if depth > 64:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path and storable(str(key)) else (str(key) if storable(str(key)) else "_key")
            if not storable(str(key)):
                found.append(where)
            found.extend(unstorable_paths(item, where, depth + 1))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unstorable_paths(item, f"{path}[{index}]", depth + 1))
    return found
