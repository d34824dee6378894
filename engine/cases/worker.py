"""The timer worker: fires due timers within a fraction of a second of their due time, catches up everything
overdue after downtime, survives the database going away, reminds the holders of tasks wanted as soon as
possible, sends pending mail and the daily digests, and every few seconds takes new history into the
tamper-evident log and signs a checkpoint. Runs as its own process (the `timer-worker`
command) or as a thread inside `serve` (the embedded scheduler, for SQLite)."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import extend
from ..audit.notes import Signer
from ..clock import Clock
from ..digests import send_digests
from ..notifications import SmtpSettings, deliver_pending
from ..retention import erase_due
from .reminders import send_due_reminders
from .timers import fire_batch, next_due

log = logging.getLogger(__name__)


class TimerWorker:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, smtp: SmtpSettings | None = None,
                 batch_size: int = 100, idle_poll: float = 0.2, mail_every: float = 1.0,
                 signer: Signer | None = None, log_every: float = 20.0, retention_every: float = 3600.0) -> None:
        self.sessions, self.clock, self.smtp, self.signer = sessions, clock, smtp, signer
        self.batch_size, self.idle_poll, self.mail_every, self.log_every = batch_size, idle_poll, mail_every, log_every
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_mail = self._last_log = 0.0
        self._last_retention = float("-inf")  # at the first pass, then every retention_every seconds
        self.retention_every = retention_every
        self.moved = 0

    def tick(self) -> int:
        """One pass: fire one batch and send the reminders due; returns how many cases moved and tasks were
        reminded (0 means nothing was due)."""
        with self.sessions() as session:
            result = fire_batch(session, self.clock, self.batch_size)
            # After the timers (a deadline may close a task): tasks wanted as soon as possible, still open.
            reminded = send_due_reminders(session, self.clock, self.batch_size)
            if self.smtp and time.monotonic() - self._last_mail >= self.mail_every:
                self._last_mail = time.monotonic()
                deliver_pending(session, self.clock, self.smtp)
                send_digests(session, self.clock, self.smtp)
            if self.signer and time.monotonic() - self._last_log >= self.log_every:
                self._last_log = time.monotonic()
                extend(session, self.clock, self.signer)
            # Closed challenges past their partnership's retention period (only once the log holds their history).
            if time.monotonic() - self._last_retention >= self.retention_every:
                self._last_retention = time.monotonic()
                erase_due(session, self.clock)
        self.moved += result.moved
        return result.moved + result.failed + reminded

    def _pause(self) -> float:
        """Sleep until the next due timer, but never longer than the idle poll: new cases arrive all the time."""
        with self.sessions() as session:
            due = next_due(session)
        if due is None:
            return self.idle_poll
        return max(0.0, min(self.idle_poll, (due - self.clock.now()).total_seconds()))

    def run(self) -> None:
        log.info("timer worker started")
        while not self.stopping.is_set():
            try:
                if self.tick():
                    continue  # more may be due: no sleep while catching up
                self.stopping.wait(self._pause())
            except DBAPIError as exc:
                # The database went away (restart, failover): wait, then the pool reconnects.
                log.warning("database unavailable (%s); retrying in 1 s", exc.__class__.__name__)
                self.stopping.wait(1.0)
            except Exception:
                log.exception("timer worker pass failed; retrying in 1 s")
                self.stopping.wait(1.0)
        log.info("timer worker stopped after moving %d case(s)", self.moved)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run, name="timer-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
