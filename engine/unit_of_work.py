"""One rule for every service that changes state: its work runs inside `unit_of_work(session)`, which commits
only when the work says so and rolls back whatever was not committed when the block ends, however it ends. Two
steps on one case at once (the second finds the case row changed) end as a `Conflict`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict


class UnitOfWork:
    def __init__(self, session: Session) -> None:
        self.session = session

    def commit(self) -> None:
        self.session.commit()


@contextmanager
def unit_of_work(session: Session) -> Iterator[UnitOfWork]:
    try:
        yield UnitOfWork(session)
    except StaleDataError:
        session.rollback()
        raise Conflict("Someone else changed this challenge at the same moment; reload and try again.") from None
    finally:
        # Whatever the work committed is kept; anything after its last commit (a failure on the way) is not.
        session.rollback()
