"""What the long lists share (My tasks, my agency's cases): the filters read from the query string, the page
asked for, and the choices the filter form offers."""

from __future__ import annotations

from flask import request

from engine.queries import filters as choices
from engine.queries.filters import TaskFilters

PAGE_SIZE = 25
LAST_PAGE = 1000  # a page number past any real list: a hand-typed 10**9 must not become a huge OFFSET


def filters() -> TaskFilters:
    return TaskFilters.parse(request.args)


def page() -> int:
    value = request.args.get("page", "1")
    return min(int(value), LAST_PAGE) if value.isdigit() and 0 < len(value) < 6 and int(value) > 0 else 1


def form_context(procedures: list[tuple[str, str]]) -> dict:
    return {"procedures": procedures, "risk_choices": choices.RISK_CHOICES, "claimed_choices": choices.CLAIMED_CHOICES,
            "side_choices": choices.SIDE_CHOICES, "sort_choices": choices.SORT_CHOICES}
