"""The reports' figures: `python bench/reports.py [--db sqlite|postgres|both] [--challenges N] [--runs N]`.

A database of N challenges (default 100,000) over fifteen months across the four demo partnerships, most of them
Darlington's (the busiest shape: five stages), each with its facts, its stages and two tasks per stage written in
bulk in the shape the engine writes them (a real raised challenge is the template of every challenge row). Then
each page and download is asked for through the app by the business unit, `--runs` times, and its median and
95th percentile printed (targets: every report under 300 ms at the 95th percentile, the stall view under 500).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.audit import database  # noqa: E402
from bench.seed import template  # noqa: E402
from engine.calendar import WorkingCalendar  # noqa: E402
from engine.clock import MovableClock  # noqa: E402
from engine.db import make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.models import (  # noqa: E402
    Agency,
    Challenge,
    ChallengeFacts,
    Partnership,
    ProcedureVersion,
    StageFacts,
    Task,
)

NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)
FIRST = datetime(2025, 10, 1, 9, tzinfo=UTC)
AREAS = ["thresholds", "assessment_outcome", "decision_making", "information_sharing", "case_closure", "other"]
SHARES = {"darlington": 0.775, "dudley": 0.1, "tees": 0.075, "stoke": 0.05}


def build(sessions, total: int) -> None:
    rng = random.Random(7)
    calendar = WorkingCalendar()
    with sessions() as s:
        load_demo(s, MovableClock(FIRST))
        source = template(s, FIRST)
        base = {c.key: getattr(source, c.key) for c in Challenge.__table__.columns if c.key != "id"}
        partnerships = list(s.scalars(select(Partnership)))
        agencies = {p.id: list(s.scalars(select(Agency.id).where(Agency.partnership_id == p.id,
                                                                 Agency.is_partnership_body.is_(False))))
                    for p in partnerships}
        versions = {p.id: s.get(ProcedureVersion, p.current_version_id) for p in partnerships}
        tasks_of = {p.id: _tasks_by_stage(versions[p.id]) for p in partnerships}
        span = (NOW - FIRST).total_seconds()
        done, batch = 0, 5000
        while done < total:
            n = min(batch, total - done)
            rows, plans = [], []
            for k in range(done, done + n):
                slug = rng.choices(list(SHARES), weights=list(SHARES.values()))[0]
                partnership = next(p for p in partnerships if p.slug == slug)
                raising, receiving = rng.sample(agencies[partnership.id], 2)
                raised = FIRST + timedelta(seconds=rng.random() * span)
                stages = max(tasks_of[partnership.id])
                reached = min(stages, 1 + int(rng.expovariate(1.1)))
                closes = rng.random() < 0.85
                plans.append((partnership, raising, receiving, raised, reached, closes))
                rows.append({**base, "reference": f"B-{k:07d}", "subject_reference": f"BENCH-{k}",
                             "partnership_id": partnership.id, "procedure_version_id": versions[partnership.id].id,
                             "raising_agency_id": raising, "receiving_agency_id": receiving, "raised_at": raised,
                             "current_stage": reached, "area": rng.choice(AREAS)})
            ids = list(s.scalars(insert(Challenge).returning(Challenge.id), rows))
            facts, stage_rows, task_rows = [], [], []
            for cid, row, (partnership, raising, receiving, raised, reached, closes) in zip(ids, rows, plans,
                                                                                           strict=True):
                moment, missed = raised, 0
                for stage in range(1, reached + 1):
                    deadline = calendar.add_working_days(moment, 3)
                    took = timedelta(hours=rng.expovariate(1 / 40))
                    last = stage == reached
                    ended = moment + took if (not last or closes) and moment + took < NOW else None
                    late = ended is not None and ended > deadline or ended is None and deadline < NOW
                    missed += late
                    stage_rows.append({"challenge_id": cid, "stage": stage, "partnership_id": partnership.id,
                                       "started_at": moment, "ended_at": ended, "deadline": deadline,
                                       "missed": late, "working_days": calendar.working_days_between(moment, ended)
                                       if ended else None})
                    for n_task, bpmn_id in enumerate(tasks_of[partnership.id][stage][:2]):
                        opened = moment + took * n_task / 2
                        closed = moment + took * (n_task + 1) / 2 if ended else None
                        task_rows.append({"challenge_id": cid, "procedure_version_id": row["procedure_version_id"],
                                          "task_uuid": f"{cid}-{stage}-{n_task}",
                                          "bpmn_id": bpmn_id, "title": bpmn_id, "lane": "", "role": "practitioner",
                                          "side": "receiving", "agency_id": receiving, "stage": stage, "form": "",
                                          "due_at": deadline, "status": "completed" if closed else "open",
                                          "opened_at": opened, "closed_at": closed, "completed_at": closed})
                    if ended is None:
                        break
                    moment = ended
                closed_at = moment if closes and moment < NOW and stage_rows[-1]["ended_at"] else None
                facts.append({"challenge_id": cid, "partnership_id": partnership.id,
                              "procedure_version_id": row["procedure_version_id"], "raising_agency_id": raising,
                              "receiving_agency_id": receiving, "area": row["area"],
                              "subject_kind": rng.choice(("child", "child", "adult")),
                              "significant_risk": rng.random() < 0.2, "cp_or_lac": "neither", "raised_at": raised,
                              "raised_on": calendar.local_day(raised), "status": "closed" if closed_at else "open",
                              "stage_reached": reached, "closed_at": closed_at,
                              "outcome": rng.choice(("resolved", "resolved", "decided_by_partnership"))
                              if closed_at else None,
                              "working_days_to_close": calendar.working_days_between(raised, closed_at)
                              if closed_at else None,
                              "satisfied": rng.choice(("yes", "partly", "no", None)) if closed_at else None,
                              "referred_to_partnership": reached >= 4, "deadlines_missed": missed})
            s.execute(insert(ChallengeFacts), facts)
            s.execute(insert(StageFacts), stage_rows)
            s.execute(insert(Task), task_rows)
            s.commit()
            done += n
    with sessions() as s:
        s.connection().exec_driver_sql("ANALYZE")
        s.commit()


def _tasks_by_stage(version: ProcedureVersion) -> dict[int, list[str]]:
    import re

    found: dict[int, list[str]] = {}
    for match in re.finditer(r'<bpmn:userTask id="([^"]+)".*?name="stage" value="(\d+)"', version.bpmn_xml, re.S):
        found.setdefault(int(match[2]), []).append(match[1])
    return found


REQUESTS = {
    "half-year report": "/reports?period=2026-h1",
    "year report": "/reports?period=2025",
    "report XLSX": "/reports/report.xlsx?period=2026-h1",
    "case list": "/reports/cases?period=2026-h1",
    "case list, filtered": "/reports/cases?period=2026-h1&status=open&stage=2&risk=1",
    "case list, searched": "/reports/cases?period=2025&search=B-00123",
    "stall view": "/reports/stalls?period=2026-h1",
}


def measure(url: str, runs: int) -> dict[str, tuple[float, float]]:
    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "CLOCK": MovableClock(NOW), "SESSION_IDLE_MINUTES": 10 ** 6, "SESSION_HOURS": 10 ** 5})
    client = app.test_client()
    assert client.post("/login", data={"username": "dsp-business-unit", "password": "demo-password"}) \
        .status_code == 302
    out = {}
    for name, path in REQUESTS.items():
        assert client.get(path).status_code == 200, path  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
        times.sort()
        out[name] = (statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--challenges", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            engine = database(kind, folder)
            url = engine.url.render_as_string(hide_password=False)
            started = time.perf_counter()
            build(make_sessions(engine), args.challenges)
            with make_sessions(engine)() as s:
                count = s.scalar(select(func.count()).select_from(ChallengeFacts))
                darlington = s.scalar(select(func.count()).select_from(ChallengeFacts)
                                      .join(Partnership, Partnership.id == ChallengeFacts.partnership_id)
                                      .where(Partnership.slug == "darlington"))
                tasks = s.scalar(select(func.count()).select_from(Task))
            print(f"{kind}: {count:,} challenges ({darlington:,} Darlington), {tasks:,} tasks, built in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            engine.dispose()
            results[kind] = measure(url, args.runs)
    print(f"\n{'request':24}" + "".join(f"{k + ' median':>18}{k + ' p95':>14}" for k in kinds) + "  target (p95)")
    for name in REQUESTS:
        target = "500 ms" if name == "stall view" else "300 ms"
        print(f"{name:24}" + "".join(f"{results[k][name][0]:15.1f} ms{results[k][name][1]:11.1f} ms" for k in kinds)
              + f"  {target}")


if __name__ == "__main__":
    main()
