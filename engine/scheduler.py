"""The embedded scheduler of the run command: about once a second, fire due timers and send pending mail."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from .clock import Clock
from .notifications import SmtpSettings, deliver_pending
from .timers import fire_due_timers

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, smtp: SmtpSettings | None,
                 interval: float = 1.0) -> None:
        self.sessions, self.clock, self.smtp, self.interval = sessions, clock, smtp, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="challenge-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def tick(self) -> tuple[int, int]:
        with self.sessions() as session:
            fired = fire_due_timers(session, self.clock)
            sent = deliver_pending(session, self.clock, self.smtp)[0] if self.smtp else 0
        return fired, sent

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fired, sent = self.tick()
                if fired or sent:
                    log.info("scheduler: %d challenge(s) moved by timers, %d email(s) sent", fired, sent)
            except Exception:  # keep the scheduler alive; the next tick retries whatever failed
                log.exception("scheduler tick failed")
            self._stop.wait(self.interval)
