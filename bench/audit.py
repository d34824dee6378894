"""The audit figures: `python bench/audit.py [--db sqlite|postgres] [--events N] [--cases N]`.

- verification: a log of N events (real events copied in bulk, then taken into the log by the worker's `extend`)
  verified whole, in entries per second (target: at least 200,000);
- taking history into the log: what `extend` costs per entry, beside what a completion costs, as the share the
  hash chain and tree add to a completion (target: under 5%);
- the replay page of a case with about 300 events (a Tees case through many tiers of senior management): the
  page and its step data through the app, median of 20 (target: under 300 ms);
- re-execution (`audit verify --replay`) of N real cases, in cases per second and ms a case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from engine.audit.log import extend  # noqa: E402
from engine.audit.notes import Signer  # noqa: E402
from engine.audit.reexecute import reexecute  # noqa: E402
from engine.audit.verify import verify  # noqa: E402
from engine.cases.raising import raise_challenge  # noqa: E402
from engine.cases.tasks import complete_task  # noqa: E402
from engine.clock import MovableClock  # noqa: E402
from engine.db import make_engine, make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.models import Agency, Base, Challenge, Event, LogEntry, Task, User  # noqa: E402

SIGNER = Signer.generate("bench.invalid/audit")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RAISE = {"challenged_role": "Team manager", "subject_reference": "BENCH-1", "area": "thresholds",
         "summary": "Closed without assessment.",
         "cp_or_lac": "neither", "significant_risk": False}
RESPOND = {"rationale": "Below threshold.", "response": "We will look again."}
ESCALATE = {"discussion": "No agreement.", "decision": "escalate", "reason": "No agreement."}
SENIOR = {"manager": "D. Patel", "rationale": "It stands.", "response": "We will review it."}
NEXT_TIER = {"manager": "R. Jones", "discussion": "Met.", "professional_meeting": False, "decision": "next_tier",
             "reason": "Higher."}


def database(kind: str, folder: str):
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder}/audit.sqlite3")
        Base.metadata.create_all(engine)
    else:
        engine = make_engine(POSTGRES)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        Base.metadata.create_all(engine)
    return engine


def user(session, name: str) -> User:
    return session.scalar(select(User).where(User.username == name))


def act(session, clock, name: str, bpmn_id: str, challenge_id: int, answers: dict) -> None:
    clock.advance(minutes=30)
    task = session.scalar(select(Task).where(Task.challenge_id == challenge_id, Task.bpmn_id == bpmn_id,
                                             Task.status == "open"))
    complete_task(session, clock, user(session, name), task.id, dict(answers))


def many_tiers(session, clock) -> int:
    """A Tees case escalated to stage 3 and taken through tiers until it has about 300 events."""
    police = session.scalar(select(Agency).where(Agency.name == "Cleveland Police"))
    challenge = raise_challenge(session, clock, user(session, "tees-csc-practitioner"),
                                {**RAISE, "receiving_agency_id": police.id})
    for who, bpmn_id, answers in (("tees-police-practitioner", "s1_respond", RESPOND),
                                  ("tees-csc-practitioner", "s1_decide", ESCALATE),
                                  ("tees-police-manager", "s2_respond", RESPOND),
                                  ("tees-csc-manager", "s2_decide", ESCALATE)):
        act(session, clock, who, bpmn_id, challenge.id, answers)
    while session.scalar(select(func.count(Event.id)).where(Event.challenge_id == challenge.id)) < 300:
        act(session, clock, "tees-police-senior", "s3_respond", challenge.id, SENIOR)
        act(session, clock, "tees-csc-senior", "s3_decide", challenge.id, NEXT_TIER)
    return challenge.id


def verification(sessions, clock, n: int) -> dict:
    with sessions() as s:
        template = s.scalars(select(Event).order_by(Event.id).limit(50)).all()
        have = s.scalar(select(func.count(Event.id)))
        # Copies recorded now: a copy recorded well before a checkpoint that lacks it would be found inserted.
        rows = [{"challenge_id": e.challenge_id, "at": clock.now(), "recorded_at": clock.now(), "actor_id": e.actor_id,
                 "kind": e.kind, "task_id": e.task_id, "element_id": e.element_id, "data": e.data}
                for e in template]
        for start in range(0, max(n - have, 0), 10_000):
            s.execute(insert(Event), [rows[i % len(rows)] for i in range(start, min(start + 10_000, n - have))])
            s.commit()
        started = time.perf_counter()
        added = 0
        while True:
            done = extend(s, clock, SIGNER, limit=50_000)
            added += done.added
            if done.added == 0:
                break
        extend_seconds = time.perf_counter() - started
        report = verify(s, SIGNER.verifier(), workers=os.cpu_count() or 1)
        assert report.ok, report.findings[:3]
        return {"entries": report.entries, "verify_s": report.seconds, "verify_per_s": report.entries / report.seconds,
                "extend_us_per_entry": extend_seconds / max(added, 1) * 1e6}


def completion_ms(sessions, clock, n: int = 200) -> float:
    with sessions() as s:
        durham = s.scalar(select(Agency).where(Agency.name == "Durham Constabulary"))
        ids = [raise_challenge(s, clock, user(s, "csc-practitioner"), {**RAISE, "receiving_agency_id": durham.id}).id
               for _ in range(n)]
        officer = user(s, "police-practitioner")
        tasks = [s.scalar(select(Task.id).where(Task.challenge_id == i, Task.status == "open")) for i in ids]
        started = time.perf_counter()
        for task_id in tasks:
            complete_task(s, clock, officer, task_id, dict(RESPOND))
        seconds = time.perf_counter() - started
        events = s.scalar(select(func.count(Event.id)).where(Event.challenge_id.in_(ids), Event.recorded_at >=
                                                           clock.now() - timedelta(seconds=1)))
        return seconds / n * 1000, events / n


def replay_page(url: str, clock, challenge_id: int) -> dict:
    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "AUDIT_KEY": SIGNER.text(), "SESSION_IDLE_MINUTES": 10**6, "SESSION_HOURS": 10**5})
    client = app.test_client()
    client.post("/login", data={"username": "tees-auditor", "password": "demo-password"})
    times = []
    for _ in range(20):
        started = time.perf_counter()
        page = client.get(f"/audit/challenges/{challenge_id}")
        data = client.get(f"/audit/challenges/{challenge_id}/replay.json")
        times.append(time.perf_counter() - started)
        assert page.status_code == data.status_code == 200
    return {"replay_page_ms": statistics.median(times) * 1000, "steps": len(data.get_json()["steps"])}


def reexecution(sessions, clock, n: int) -> dict:
    with sessions() as s:
        durham = s.scalar(select(Agency).where(Agency.name == "Durham Constabulary"))
        referrer, officer = user(s, "csc-practitioner"), user(s, "police-practitioner")
        for k in range(n):
            challenge = raise_challenge(s, clock, referrer, {**RAISE, "receiving_agency_id": durham.id})
            if k % 2:
                task = s.scalar(select(Task.id).where(Task.challenge_id == challenge.id, Task.status == "open"))
                complete_task(s, clock, officer, task, dict(RESPOND))
        cases = s.scalars(select(Challenge).order_by(Challenge.id.desc()).limit(n)).all()
        started = time.perf_counter()
        results = [reexecute(s, c) for c in cases]
        seconds = time.perf_counter() - started
        assert all(r.matches for r in results), [r for r in results if not r.matches][:2]
        return {"replayed": len(cases), "replay_per_s": len(cases) / seconds, "replay_ms_a_case": seconds / n * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = database(args.db, folder)
        sessions = make_sessions(engine)
        clock = MovableClock(datetime(2026, 12, 18, 15, 0, tzinfo=UTC))
        with sessions() as s:
            load_demo(s, clock)
            tiers = many_tiers(s, clock)
            events_of_it = s.scalar(select(func.count(Event.id)).where(Event.challenge_id == tiers))
        url = str(engine.url.render_as_string(hide_password=False))
        figures = {"replay_events": events_of_it}
        figures.update(replay_page(url, clock, tiers))
        ms, events_a_completion = completion_ms(sessions, clock)
        figures.update(completion_ms=ms)
        figures.update(reexecution(sessions, clock, args.cases))
        figures.update(verification(sessions, clock, args.events))
        with sessions() as s:
            figures["log_entries"] = s.scalar(select(func.count()).select_from(LogEntry))
            if args.db == "postgres":
                s.execute(text("SELECT 1"))
        share = figures["extend_us_per_entry"] * events_a_completion / (ms * 1000)
    print(f"database                                       {args.db}")
    print(f"replay page, a case of {figures['replay_events']} events ({figures['steps']} steps): "
          f"median {figures['replay_page_ms']:.0f} ms (target < 300)")
    print(f"verification: {figures['entries']:,} entries in {figures['verify_s']:.2f} s = "
          f"{figures['verify_per_s']:,.0f} entries/s (target >= 200,000)")
    print(f"re-execution: {figures['replayed']:,} cases at {figures['replay_per_s']:,.0f} cases/s, "
          f"{figures['replay_ms_a_case']:.2f} ms a case")
    print(f"taking into the log: {figures['extend_us_per_entry']:.1f} us an entry; a completion is "
          f"{figures['completion_ms']:.2f} ms and writes {events_a_completion:.1f} events, so the log adds "
          f"{share * 100:.1f}% to it, in the worker (target < 5%)")


if __name__ == "__main__":
    main()
