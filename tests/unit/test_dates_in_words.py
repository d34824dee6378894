"""Records read as a person would: a date kept as ISO text is written in words."""

from __future__ import annotations

from engine.queries.records import answer_text, date_in_words


def test_dates_kept_as_iso_text_are_written_in_words():
    assert date_in_words("2026-12-22") == "Tuesday 22 December 2026"
    assert date_in_words("not a date") == "not a date"
    assert answer_text({"format": "date"}, "2027-01-04") == "Monday 4 January 2027"
    assert answer_text({"type": "string"}, "2027-01-04") == "2027-01-04"  # only fields that are dates
