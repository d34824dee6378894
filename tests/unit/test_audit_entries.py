"""The log's headers, written field by field for speed, are byte for byte the sorted compact JSON they stand for;
content is hashed as the database stores it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from engine.audit.entries import VERSION, access_content, access_header, event_content, event_header, moment
from engine.db import compact_json

AT = moment(datetime(2026, 12, 18, 15, 0, tzinfo=UTC))
LATER = moment(datetime(2026, 12, 18, 15, 0, 0, 123456, tzinfo=UTC))
AWKWARD = ['s1_respond', 'quote " and \\ back', "new\nline", "tab\t", "ünïcödé ✓", "\u2028 \x00 \x1f", "", "</script>"]


def sorted_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_times_are_written_to_the_microsecond_in_utc():
    assert (AT, LATER) == ("2026-12-18T15:00:00.000000Z", "2026-12-18T15:00:00.123456Z")


@pytest.mark.parametrize("text", AWKWARD + [None])
def test_an_event_header_is_its_sorted_json(text):
    content, prev = hashlib.sha256(b"x").digest(), hashlib.sha256(b"y").digest()
    for kind, element, actor, task, before in ((text or "k", text, 7, None, prev), ("k", None, None, 12, None)):
        expected = sorted_json({"v": VERSION, "type": "event", "id": 1, "challenge": 2, "kind": kind, "at": AT,
                                "recorded_at": LATER, "actor": actor, "task": task, "element": element,
                                "content": content.hex(), "prev": before.hex() if before else None})
        assert event_header(1, 2, kind, AT, LATER, actor, task, element, content, before) == expected


@pytest.mark.parametrize("text", AWKWARD + [None])
def test_an_access_header_and_its_content_are_their_json(text):
    content = hashlib.sha256(b"x").digest()
    expected = sorted_json({"v": VERSION, "type": "access", "id": 3, "at": AT, "kind": text or "read", "user": None,
                            "challenge": 4, "token": 5, "content": content.hex()})
    assert access_header(3, AT, text or "read", None, 4, 5, content) == expected
    for detail in (None, {"b": 1, "a": [text, True, 1.5]}):
        whole = {"username": text, "address": "127.0.0.1", "what": text, "detail": detail}
        as_stored = compact_json(detail) if detail is not None else None
        assert access_content(text, "127.0.0.1", text, as_stored) == compact_json(whole).encode()


def test_an_events_content_is_its_data_as_stored():
    data = compact_json({"z": 1, "a": {"ü": ["✓", None, False]}})
    assert event_content(data) == data.encode() and event_content(None) == b""
