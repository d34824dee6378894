"""Faults, with real worker processes on PostgreSQL: a worker killed with SIGKILL in the middle of a batch, the
database restarted under load, four workers against the same due timers. Every due case is moved exactly
once; nothing is lost. (PostgreSQL only: these are about row locks and reconnection between processes.)"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.seed import clone, raised_for_one_missed_deadline, template
from engine.audit.notes import Signer
from engine.models import Challenge, Event

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (os.environ.get("PC_TEST_DATABASE_URL") or "").startswith("postgresql"),
    reason="needs PostgreSQL: run by `make test-postgres` (and so by .ci/run)",
)


@pytest.fixture
def overdue(session, demo):
    """Challenges whose stage 1 deadline (and reminder) have passed, and nothing after them."""

    def make(count: int) -> list[int]:
        source = template(session, raised_for_one_missed_deadline(datetime.now(UTC)))
        return [source.id, *clone(session, source, count - 1)]

    return make


def start_worker(database_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "worker-test",
           "PC_AUDIT_KEY": Signer.generate("test.invalid/audit").text()}
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "web", "timer-worker", "--batch-size", "50"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def stage_2_entries(session) -> dict[int, int]:
    session.expire_all()
    rows = session.execute(
        select(Event.challenge_id, func.count(Event.id))
        .where(Event.kind == "stage_entered", Event.data["stage"].as_integer() == 2)
        .group_by(Event.challenge_id)
    ).all()
    return dict(rows)


def wait_until(predicate, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def due_left(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Challenge.id)).where(Challenge.next_timer_due <= datetime.now(UTC)))


def stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def assert_each_moved_exactly_once(session, ids: list[int]) -> None:
    entries = stage_2_entries(session)
    assert set(entries) == set(ids), f"{len(set(ids) - set(entries))} case(s) never moved"
    assert set(entries.values()) == {1}, "a case was moved twice"
    fired = session.execute(
        select(Event.challenge_id, func.count(Event.id)).where(Event.kind == "timer_fired")
        .group_by(Event.challenge_id)
    ).all()
    assert {count for _, count in fired} == {2}  # the stage 1 reminder and deadline, once each


def test_a_worker_killed_mid_batch_loses_nothing_and_fires_nothing_twice(database_url, session, overdue, tmp_path):
    ids = overdue(1500)
    first = start_worker(database_url, tmp_path / "worker1.log")
    try:
        wait_until(lambda: len(stage_2_entries(session)) >= 100, 120, "the first worker to make progress")
        first.send_signal(signal.SIGKILL)  # in the middle of whatever batch it holds
        first.wait(timeout=10)
        partial = len(stage_2_entries(session))
        assert partial < len(ids)
        second = start_worker(database_url, tmp_path / "worker2.log")
        try:
            wait_until(lambda: due_left(session) == 0, 300, "the second worker to catch up")
        finally:
            stop(second)
    finally:
        stop(first)
    assert_each_moved_exactly_once(session, ids)


def test_four_workers_against_the_same_due_timers_fire_each_once(database_url, session, overdue, tmp_path):
    count = int(os.environ.get("PC_FAULT_TEST_TIMERS", "10000"))
    ids = overdue(count)
    workers = [start_worker(database_url, tmp_path / f"worker{n}.log") for n in range(4)]
    try:
        wait_until(lambda: due_left(session) == 0, 900, f"four workers to fire {count} due cases")
    finally:
        stop(*workers)
    assert_each_moved_exactly_once(session, ids)
    logs = "".join((tmp_path / f"worker{n}.log").read_text() for n in range(4))
    assert logs.count("timer worker started") == 4


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
                    reason="restarting the database needs Debian's pg_ctlcluster, as root")
def test_the_worker_reconnects_after_the_database_restarts(database_url, session, overdue, tmp_path):
    ids = overdue(1500)
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    worker = start_worker(database_url, tmp_path / "worker.log")
    try:
        wait_until(lambda: len(stage_2_entries(session)) >= 100, 120, "the worker to make progress")
        session.close()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                       timeout=120)
        wait_until(lambda: due_left(session) == 0, 300, "the worker to finish after the restart")
        assert worker.poll() is None, "the worker died instead of reconnecting"
    finally:
        stop(worker)
    assert_each_moved_exactly_once(session, ids)
    assert "database unavailable" in (tmp_path / "worker.log").read_text()
