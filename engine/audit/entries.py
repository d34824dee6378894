"""What each entry of the log commits to: a canonical header (a JSON object, keys sorted, no spaces, UTF-8)
naming the row, its time, who and what, and the SHA-256 of the row's content (an event's data; an access
record's name, address, what and detail) rather than the content itself. A retention rule may so erase an event's
personal content later and the log still verify against the kept hash.

The content hashed is its bytes exactly as the database holds them (every engine writes JSON compact and in the
order given, `engine.db.compact_json`). Rows are read for the log, its verification and bundles alike by the
columns below, which have the database write each time as headers do and hand over the content as its stored
text, so an entry is had from a row with no parsing. Headers are written field by field in sorted order;
`tests/unit/test_audit_entries.py` holds them to `json.dumps(..., sort_keys=True)`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring  # a JSON string literal exactly as json.dumps(ensure_ascii=False) writes it
from typing import Any

from .merkle import leaf_hash

VERSION = 1


def moment(value: datetime | None) -> str | None:
    """A time as headers write it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value is not None else None


def _at(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    return f"replace({column}, ' ', 'T') || 'Z'"  # SQLite holds a time as 'YYYY-MM-DD HH:MM:SS.ffffff'


def _text(dialect: str, column: str) -> str:
    return f"CAST({column} AS TEXT)" if dialect == "postgresql" else column  # PostgreSQL's json keeps the text


def event_columns(dialect: str, alias: str = "e") -> str:
    """An events row as `event_leaf` reads it."""
    e = alias
    return (f"{e}.id, {e}.challenge_id, {e}.kind, {_at(dialect, f'{e}.at')}, {_at(dialect, f'{e}.recorded_at')}, "
            f"{e}.actor_id, {e}.task_id, {e}.element_id, {_text(dialect, f'{e}.data')}")


def access_columns(dialect: str, alias: str = "a") -> str:
    """An access_log row as `access_leaf` reads it."""
    a = alias
    return (f"{a}.id, {_at(dialect, f'{a}.at')}, {a}.kind, {a}.user_id, {a}.challenge_id, {a}.token_id, "
            f"{a}.username, {a}.address, {a}.what, {_text(dialect, f'{a}.detail')}")


EVENT_WIDTH, ACCESS_WIDTH = 9, 10


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return encode_basestring(value)
    return json.dumps(value, ensure_ascii=False)


def event_header(event_id: Any, challenge_id: Any, kind: Any, at: str | None, recorded_at: str | None,
                 actor_id: Any, task_id: Any, element_id: Any, content: bytes, prev: bytes | None) -> bytes:
    """An event's header, its times as `moment` strings. (Verification writes one for every event, so the usual
    types are written inline and anything else by `_value`.)"""
    v, s = _value, encode_basestring
    return (f'{{"actor":{actor_id if type(actor_id) is int else v(actor_id)},'
            f'"at":{s(at) if type(at) is str else v(at)},'
            f'"challenge":{challenge_id if type(challenge_id) is int else v(challenge_id)},'
            f'"content":"{content.hex()}",'
            f'"element":{s(element_id) if type(element_id) is str else v(element_id)},'
            f'"id":{event_id if type(event_id) is int else v(event_id)},'
            f'"kind":{s(kind) if type(kind) is str else v(kind)},'
            f'"prev":{v(prev.hex()) if prev else "null"},'
            f'"recorded_at":{s(recorded_at) if type(recorded_at) is str else v(recorded_at)},'
            f'"task":{task_id if type(task_id) is int else v(task_id)},'
            f'"type":"event","v":{VERSION}}}').encode()


def access_header(record_id: Any, at: str | None, kind: Any, user_id: Any, challenge_id: Any, token_id: Any,
                  content: bytes) -> bytes:
    v = _value
    return (f'{{"at":{v(at)},"challenge":{v(challenge_id)},"content":"{content.hex()}","id":{v(record_id)},'
            f'"kind":{v(kind)},"token":{v(token_id)},"type":"access","user":{v(user_id)},"v":{VERSION}}}').encode()


def event_content(data: str | None) -> bytes:
    """An event's content: its data as stored (none stored: no bytes)."""
    return data.encode() if data is not None else b""


def access_content(username: Any, address: Any, what: Any, detail: str | None) -> bytes:
    """An access record's content: one compact JSON object of its name, address, what and detail (as stored)."""
    v = _value
    return (f'{{"username":{v(username)},"address":{v(address)},"what":{v(what)},'
            f'"detail":{"null" if detail is None else detail}}}').encode()


def event_leaf(row: Sequence, prev: bytes | None) -> tuple[bytes, bytes, bytes]:
    """(content hash, header, leaf hash) of an events row read by `event_columns`."""
    content = hashlib.sha256(event_content(row[8])).digest()
    header = event_header(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], content, prev)
    return content, header, leaf_hash(header)


def access_leaf(row: Sequence) -> tuple[bytes, bytes, bytes]:
    """(content hash, header, leaf hash) of an access_log row read by `access_columns`."""
    content = hashlib.sha256(access_content(row[6], row[7], row[8], row[9])).digest()
    header = access_header(row[0], row[1], row[2], row[3], row[4], row[5], content)
    return content, header, leaf_hash(header)
