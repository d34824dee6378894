"""The benchmark: `python bench/run.py [--db sqlite|postgres|both] [--challenges N] [--due N]`.

Builds a realistic database (most challenges waiting at stage 1 with a deadline, a few thousand due) and prints,
for each database, side by side:
- persisted task completions per second (load, run, save state, task rows, events, outbox, commit) against the
  floor of the bare engine doing the same steps in memory with a JSON save/load each step, and the ratio; beside
  them the ceiling, the same step written by hand on the bare driver (`bench/ceiling.py`): what any
  implementation on this engine and this database could at best reach;
- timer firing: how late each case is moved after its due time with the worker running (median, p99), and how
  many timers fire per second when thousands are due at once (one worker; on PostgreSQL also 2 and 4 worker
  processes);
- "My tasks" query latency for one user (median, p95).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402

from bench.ceiling import bare_driver_completions  # noqa: E402
from bench.seed import (  # noqa: E402
    clone,
    loaded,  # noqa: E402
    raised_for_one_missed_deadline,
    template,
)
from engine.audit.notes import Signer  # noqa: E402
from engine.bpmn.serializer import SERIALIZER  # noqa: E402
from engine.cases.run import _Case, moments  # noqa: E402
from engine.cases.tasks import complete_task  # noqa: E402
from engine.cases.timers import fire_batch  # noqa: E402
from engine.cases.worker import TimerWorker  # noqa: E402
from engine.clock import MovableClock  # noqa: E402
from engine.db import make_engine, make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.models import Base, Challenge, Event, Task, User  # noqa: E402
from engine.queries import access  # noqa: E402

ANSWERS = {"rationale": "Threshold not met on the information held.", "response": "We will review it today."}
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class OffsetClock:
    """Real time, shifted: lets the worker live at the moment the seeded timers fall due."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        path = tmp / "bench.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS challenge_bench")
        conn.execute("CREATE DATABASE challenge_bench")
    return "postgresql+psycopg://postgres@127.0.0.1:5432/challenge_bench"


def build(sessions, total: int, due: int) -> dict:
    """`due` cases whose stage 1 reminder and deadline have passed (and nothing after them), the rest raised
    just now."""
    now = datetime.now(UTC).replace(microsecond=0)
    with sessions() as s:
        load_demo(s, MovableClock(now))
        waiting = template(s, now)
        overdue = template(s, raised_for_one_missed_deadline(now))
        started = time.perf_counter()
        clone(s, waiting, total - due - 2)
        clone(s, overdue, due)
        seconds = time.perf_counter() - started
        count = s.scalar(select(func.count(Challenge.id)))
    # A database that grew to this size has planner statistics (PostgreSQL's autovacuum keeps them); one just
    # bulk-loaded has none until this, and plans as if its tables were empty.
    with sessions() as s:
        s.connection().exec_driver_sql("ANALYZE")
        s.commit()
    return {"challenges": count, "build_s": seconds, "now": now, "waiting_id": waiting.id}


def completions(sessions, n: int) -> float:
    """Persisted completions per second: the receiving practitioner answers stage 1 on n waiting cases (after
    20 to warm up, as the ceiling does)."""
    with sessions() as s:
        officer = s.scalar(select(User).where(User.username == "police-practitioner"))
        task_ids = s.scalars(select(Task.id).join(Challenge, Challenge.id == Task.challenge_id)
                             .where(Task.status == "open", Task.bpmn_id == "s1_respond",
                                    Challenge.next_timer_due > datetime.now(UTC))
                             .order_by(Task.id.desc()).limit(n + 20)).all()
        clock = MovableClock(datetime.now(UTC))
        for task_id in task_ids[:20]:
            complete_task(s, clock, officer, task_id, dict(ANSWERS))
        started = time.perf_counter()
        for task_id in task_ids[20:]:
            complete_task(s, clock, officer, task_id, dict(ANSWERS))
        return (len(task_ids) - 20) / (time.perf_counter() - started)


def engine_floor(sessions, n: int) -> float:
    """The bare engine doing the same steps in memory, with a JSON save and load on every step."""
    with sessions() as s:
        source = s.scalar(select(Challenge).where(Challenge.current_stage == 1,
                                                  Challenge.next_timer_due > datetime.now(UTC)).limit(1))
        workflow, engine = loaded(source, datetime.now(UTC))
        spec, subs = workflow.spec, workflow.subprocess_specs
        state = SERIALIZER.serialize_json(workflow)  # the spec-free JSON, as stored
        task_uuid = next(t.id for t in workflow.get_tasks() if t.task_spec.name == "s1_respond")
    started = time.perf_counter()
    for _ in range(n):
        dct = json.loads(state)
        SERIALIZER.migrate(dct)
        dct["spec"], dct["subprocess_specs"] = spec, dict(subs)
        workflow = SERIALIZER.from_dict(dct)
        workflow.script_engine = engine
        task = workflow.get_task_from_id(task_uuid)
        task.data.update(ANSWERS)
        task.run()
        list(moments(_Case(workflow, engine.context, frozenset())))
        SERIALIZER.serialize_json(workflow)
    return n / (time.perf_counter() - started)


def completion_figures(db, sessions, rounds: int = 3, n: int = 300) -> dict:
    """Persisted completions, the ceiling (on PostgreSQL also with the writes pipelined) and the floor, measured
    in turns `rounds` times, so that the machine's ups and downs fall on all of them alike; the medians."""
    runs: dict[str, list[float]] = {"persisted_per_s": [], "ceiling_per_s": [], "ceiling_pipelined_per_s": [],
                                    "floor_per_s": []}
    for _ in range(rounds):
        runs["persisted_per_s"].append(completions(sessions, n))
        runs["ceiling_per_s"].append(bare_driver_completions(db, sessions, ANSWERS, n))
        if db.dialect.name == "postgresql":  # psycopg's pipeline mode; SQLite has no round trips to save
            runs["ceiling_pipelined_per_s"].append(bare_driver_completions(db, sessions, ANSWERS, n, pipelined=True))
        runs["floor_per_s"].append(engine_floor(sessions, n))
    figures = {key: statistics.median(values) if values else None for key, values in runs.items()}
    figures["ratio"] = figures["persisted_per_s"] / figures["floor_per_s"]
    figures["ceiling_ratio"] = figures["ceiling_per_s"] / figures["floor_per_s"]
    figures["ceiling_pipelined_ratio"] = (figures["ceiling_pipelined_per_s"] / figures["floor_per_s"]
                                          if figures["ceiling_pipelined_per_s"] else None)
    figures["share_of_ceiling"] = figures["persisted_per_s"] / figures["ceiling_per_s"]
    return figures


def timer_lateness(sessions, seconds: float, count: int = 600) -> tuple[float, float, int]:
    """Take `count` due cases, spread their next-due times over the coming seconds (the other due cases are set
    aside meanwhile), run the worker on a clock at that moment, and measure how long after its due time each
    case was moved."""
    with sessions() as s:
        first = s.scalar(select(func.min(Challenge.next_timer_due)).where(Challenge.current_stage == 1))
        due_ids = s.scalars(select(Challenge.id).where(Challenge.next_timer_due == first)).all()
        chosen, aside = due_ids[:count], due_ids[count:]
        set_next_due(s, aside, first + timedelta(days=3650))
        start = first + timedelta(seconds=2)
        for k, challenge_id in enumerate(chosen):
            s.execute(update(Challenge).where(Challenge.id == challenge_id)
                      .values(next_timer_due=start + timedelta(seconds=seconds * k / len(chosen))))
        s.commit()
    clock = OffsetClock(first)
    late: list[float] = []

    class Measuring(TimerWorker):
        def tick(self) -> int:
            with self.sessions() as session:
                result = fire_batch(session, self.clock, self.batch_size, measure=True)
            late.extend((fired - due).total_seconds() for due, fired in result.lateness)
            return result.moved + result.failed

    worker = Measuring(sessions, clock)
    worker.start_thread()
    time.sleep(seconds + 4)
    worker.stop()
    with sessions() as s:  # the set-aside cases are due again, for the throughput run
        set_next_due(s, aside, first)
    return statistics.median(late), percentile(late, 99), len(late)


def timers_fired(sessions) -> int:
    """Timer firings recorded so far: each is a `timer_fired` event, written with the step that fired it."""
    with sessions() as s:
        return s.scalar(select(func.count(Event.id)).where(Event.kind == "timer_fired"))


def timer_throughput(sessions) -> tuple[float, float, int]:
    """Every remaining due case at once, one worker: timer firings and cases moved per second."""
    clock = MovableClock(datetime.now(UTC))
    moved, fired_before = 0, timers_fired(sessions)
    started = time.perf_counter()
    with sessions() as s:
        while True:
            batch = fire_batch(s, clock, 100)
            moved += batch.moved
            if batch.moved + batch.failed == 0:
                break
    elapsed = time.perf_counter() - started
    return (timers_fired(sessions) - fired_before) / elapsed, moved / elapsed, moved


def timer_throughput_processes(sessions, url: str, due: int, workers: int) -> float:
    """`due` overdue cases and `workers` timer-worker processes (the deployment's shape). The cases are held back
    until every worker is connected, so the figure is timer firings per second from the moment they all fall due
    to the last case moved, not the time Python takes to start."""
    now = datetime.now(UTC).replace(microsecond=0)
    with sessions() as s:
        source = template(s, raised_for_one_missed_deadline(now))
        ids, due_at = [source.id, *clone(s, source, due - 1)], source.next_timer_due
        set_next_due(s, ids, now + timedelta(days=3650))
    env = {**os.environ, "DATABASE_URL": f"{url}?application_name=bench-timer-worker", "SECRET_KEY": "bench",
           "PC_AUDIT_KEY": Signer.generate("bench.invalid/audit").text()}
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "timer-worker"], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        with sessions() as s:
            deadline = time.monotonic() + 120
            while s.scalar(select(func.count()).select_from(text("pg_stat_activity"))
                           .where(text("application_name = 'bench-timer-worker'"))) < workers:
                s.rollback()
                if time.monotonic() > deadline:
                    raise RuntimeError("the timer workers did not connect within two minutes")
                time.sleep(0.1)
            s.rollback()
            fired_before = timers_fired(sessions)
            started = time.perf_counter()
            set_next_due(s, ids, due_at)
            while s.scalar(select(func.count(Challenge.id))
                           .where(Challenge.next_timer_due <= datetime.now(UTC))) > 0:
                s.rollback()
                time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    return (timers_fired(sessions) - fired_before) / elapsed


def set_next_due(session, ids: list[int], moment: datetime) -> None:
    for chunk in range(0, len(ids), 1000):
        session.execute(update(Challenge).where(Challenge.id.in_(ids[chunk:chunk + 1000]))
                        .values(next_timer_due=moment))
    session.commit()


def my_tasks_latency(sessions, runs: int = 200) -> tuple[float, float, int]:
    with sessions() as s:
        officer = s.scalar(select(User).where(User.username == "police-practitioner"))
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            rows = access.my_tasks(s, officer)
            times.append((time.perf_counter() - started) * 1000)
            s.rollback()
    return statistics.median(times), percentile(times, 95), len(rows)


def run(kind: str, total: int, due: int, tmp: Path) -> dict:
    url = database(kind, tmp)
    db = make_engine(url)
    Base.metadata.create_all(db)
    sessions = make_sessions(db)
    built = build(sessions, total, due)
    result = {"db": kind, **{k: v for k, v in built.items() if k not in ("now", "waiting_id")}}
    result["my_tasks_p50_ms"], result["my_tasks_p95_ms"], result["my_tasks_rows"] = my_tasks_latency(sessions)
    result.update(completion_figures(db, sessions))
    result["late_p50_s"], result["late_p99_s"], result["late_n"] = timer_lateness(sessions, 6.0)
    result["firings_per_s"], result["cases_per_s"], result["fired"] = timer_throughput(sessions)
    for workers in (2, 4):
        result[f"firings_{workers}proc_per_s"] = (timer_throughput_processes(sessions, url, due, workers)
                                                  if kind == "postgres" else None)  # PostgreSQL's deployment
    db.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--challenges", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=3_000)
    args = parser.parse_args()
    tmp = Path("/tmp") / f"challenge-bench-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [run(kind, args.challenges, args.due, tmp) for kind in kinds]
    rows = [
        ("challenges in the database", "challenges", "{:,}"),
        ("built in (s)", "build_s", "{:.1f}"),
        ("persisted completions / s", "persisted_per_s", "{:.0f}"),
        ("bare engine in memory / s (floor)", "floor_per_s", "{:.0f}"),
        ("ratio persisted / floor (target >= 0.5)", "ratio", "{:.2f}"),
        ("ceiling: the same step on the bare driver / s", "ceiling_per_s", "{:.0f}"),
        ("ceiling / floor", "ceiling_ratio", "{:.2f}"),
        ("ceiling, writes pipelined / s", "ceiling_pipelined_per_s", "{:.0f}"),
        ("ceiling, writes pipelined / floor", "ceiling_pipelined_ratio", "{:.2f}"),
        ("persisted / ceiling", "share_of_ceiling", "{:.2f}"),
        ("timer lateness median (s)", "late_p50_s", "{:.3f}"),
        ("timer lateness p99 (s) (target <= 1)", "late_p99_s", "{:.3f}"),
        ("cases measured for lateness", "late_n", "{}"),
        ("timer firings / s, one worker (target >= 500)", "firings_per_s", "{:.0f}"),
        ("due cases moved / s, one worker", "cases_per_s", "{:.0f}"),
        ("due cases moved in that run", "fired", "{:,}"),
        ("timer firings / s, 2 worker processes", "firings_2proc_per_s", "{:.0f}"),
        ("timer firings / s, 4 worker processes", "firings_4proc_per_s", "{:.0f}"),
        ("My tasks p50 (ms)", "my_tasks_p50_ms", "{:.2f}"),
        ("My tasks p95 (ms) (target < 10)", "my_tasks_p95_ms", "{:.2f}"),
    ]
    print(f"{'':52}" + "".join(f"{r['db']:>14}" for r in results))
    for label, key, fmt in rows:
        print(f"{label:52}" + "".join(f"{'-' if r[key] is None else fmt.format(r[key]):>14}" for r in results))


if __name__ == "__main__":
    main()
