"""What each entry of the log commits to: a canonical header (a JSON object, keys sorted, no spaces, UTF-8)
naming the row, its time, who and what, and the SHA-256 of its content (an event's data; an access record's
name, address and detail) rather than the content itself. A retention rule may so erase an event's personal
content later and the log still verify against the kept hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from .merkle import leaf_hash

VERSION = 1


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def moment(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value is not None else None


def content_hash(content: Any) -> bytes:
    return hashlib.sha256(canonical(content)).digest()


def event_header(event_id: int, challenge_id: int, kind: str, at: datetime, recorded_at: datetime,
                 actor_id: int | None, task_id: int | None, element_id: str | None, content: bytes,
                 prev: bytes | None) -> bytes:
    return canonical({"v": VERSION, "type": "event", "id": event_id, "challenge": challenge_id, "kind": kind,
                      "at": moment(at), "recorded_at": moment(recorded_at), "actor": actor_id, "task": task_id,
                      "element": element_id, "content": content.hex(), "prev": prev.hex() if prev else None})


def access_header(record_id: int, at: datetime, kind: str, user_id: int | None, challenge_id: int | None,
                  token_id: int | None, content: bytes) -> bytes:
    return canonical({"v": VERSION, "type": "access", "id": record_id, "at": moment(at), "kind": kind,
                      "user": user_id, "challenge": challenge_id, "token": token_id, "content": content.hex()})


def event_content(data: dict[str, Any] | None) -> dict[str, Any]:
    return data or {}


def access_content(username: str | None, address: str | None, what: str | None,
                   detail: dict[str, Any] | None) -> dict[str, Any]:
    return {"username": username, "address": address, "what": what, "detail": detail}


def event_leaf(row, prev: bytes | None) -> tuple[bytes, bytes]:
    """(content hash, leaf hash) of an events row (any object with its columns as attributes)."""
    content = content_hash(event_content(row.data))
    header = event_header(row.id, row.challenge_id, row.kind, row.at, row.recorded_at, row.actor_id, row.task_id,
                          row.element_id, content, prev)
    return content, leaf_hash(header)


def access_leaf(row) -> tuple[bytes, bytes]:
    content = content_hash(access_content(row.username, row.address, row.what, row.detail))
    header = access_header(row.id, row.at, row.kind, row.user_id, row.challenge_id, row.token_id, content)
    return content, leaf_hash(header)
