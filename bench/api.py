"""The API's figures: `python bench/api.py [--db sqlite|postgresql|both] [--cases N] [--rounds N] [--each N]`.

A database of N open cases (default 10,000; the demo partnerships, every case a real Darlington challenge raised
against Durham Constabulary, copied in bulk), the API served by gunicorn in its own process (one worker, one
thread, keep-alive) and one client on one kept-alive connection (http.client). Measured in `--rounds` rounds,
the HTTP and the in-process measurement of each action taken in turns (which goes first alternating), so the
machine's ups and downs fall on both alike; every sample of every round pooled into the medians and 95th
percentiles, and the ratio of the medians:

- the task list: `GET /api/v1/tasks` for the receiving practitioner (a page of 100 lean rows of 10,000 open tasks)
  against `engine.queries.access.my_tasks` (target: p95 under 10 ms through HTTP);
- raising: `POST /api/v1/challenges` against `engine.cases.raising.raise_challenge`;
- completing stage 1's response: `POST /api/v1/tasks/{id}/complete` against `engine.cases.tasks.complete_task`
  (target for both: HTTP within 1.8 times in-process).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.run import percentile  # noqa: E402
from bench.seed import clone, template  # noqa: E402
from engine import tokens  # noqa: E402
from engine.cases.raising import raise_challenge  # noqa: E402
from engine.cases.tasks import complete_task  # noqa: E402
from engine.clock import MovableClock, SystemClock  # noqa: E402
from engine.db import make_engine, make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.models import Agency, Base, Challenge, Task, User  # noqa: E402
from engine.queries import access  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_DB = os.environ.get("PC_BENCH_PG_DB", "challenge_api_bench")
RAISE = {"subject_reference": "API-1", "area": "thresholds", "summary": "Closed without assessment.",
         "cp_or_lac": "neither", "significant_risk": False, "challenged_role": "Team manager"}
RESPOND = {"rationale": "Threshold not met on the information held.", "response": "We will review it today."}


def database(kind: str, folder: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/api.sqlite3"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}"')
        conn.execute(f'CREATE DATABASE "{POSTGRES_DB}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{POSTGRES_DB}"


def build(sessions, cases: int) -> dict:
    """The demo, `cases` open cases waiting at stage 1 for Durham Constabulary's answer, and two API tokens."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock = MovableClock(now)
    with sessions() as s:
        load_demo(s, clock)
        source = template(s, now)
        clone(s, source, cases - 1)
        s.connection().exec_driver_sql("ANALYZE")
        s.commit()
        found = {}
        for name in ("csc-practitioner", "police-practitioner"):
            user = s.scalar(select(User).where(User.username == name))
            found[name] = tokens.create_token(s, clock, user, "bench", days=7)[1]
        found["durham"] = s.scalar(select(Agency.id).where(Agency.name == "Durham Constabulary"))
        found["open"] = s.scalar(select(func.count(Challenge.id)).where(Challenge.status == "open"))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, folder: str) -> tuple[subprocess.Popen, int]:
    """gunicorn, as deployed, with one worker and one thread (gthread keeps connections alive)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-api"}
    log = open(Path(folder) / "gunicorn.log", "wb")  # noqa: SIM115 (the server's, closed with it)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "1", "--keep-alive", "300",
         "-b", f"127.0.0.1:{port}", "web:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer: {(Path(folder) / 'gunicorn.log').read_text()[-2000:]}")


class Client:
    """One client on one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(url: str, port: int, built: dict, rounds: int, each: int) -> dict:
    sessions = make_sessions(make_engine(url))
    clock = SystemClock()
    client = Client(port)
    practitioner, officer = built["csc-practitioner"], built["police-practitioner"]
    samples: dict[str, list[float]] = {f"{what}_{how}": [] for what in ("list", "raise", "complete")
                                       for how in ("http", "engine")}
    rows = size = 0
    with sessions() as s:
        raiser = s.scalar(select(User).where(User.username == "csc-practitioner"))
        answerer = s.scalar(select(User).where(User.username == "police-practitioner"))
        # Distinct waiting stage 1 tasks for every completion, HTTP's and the engine's (and the warm-up's).
        wanted = 2 * rounds * each + 10
        task_ids = list(s.scalars(select(Task.id).where(Task.status == "open", Task.bpmn_id == "s1_respond")
                                  .order_by(Task.id.desc()).limit(wanted)))
        if len(task_ids) < wanted:
            raise SystemExit(f"{wanted} open tasks are needed; give more --cases")
        s.rollback()

        def listed_http():
            nonlocal rows, size
            status, body = client.call("GET", "/api/v1/tasks", officer)
            assert status == 200, body[:300]
            lines = json.loads(body)["tasks"]
            assert lines and all("form" not in line and "data" not in line for line in lines), lines[:1]
            rows, size = len(lines), len(body)

        def listed_engine():
            assert access.my_tasks(s, answerer, limit=access.MY_TASKS_PAGE + 1, now=clock.now())
            s.rollback()

        def raised_http():
            status, body = client.call("POST", "/api/v1/challenges", practitioner,
                                       {**RAISE, "receiving_agency_id": built["durham"]})
            assert status == 201, body[:300]

        def raised_engine():
            raise_challenge(s, clock, raiser, {**RAISE, "receiving_agency_id": built["durham"]})

        def completed_http():
            status, body = client.call("POST", f"/api/v1/tasks/{task_ids.pop()}/complete", officer,
                                       {"data": RESPOND})
            assert status == 200, body[:300]

        def completed_engine():
            complete_task(s, clock, answerer, task_ids.pop(), dict(RESPOND))

        pairs = {"list": (listed_http, listed_engine), "raise": (raised_http, raised_engine),
                 "complete": (completed_http, completed_engine)}
        for http_way, engine_way in pairs.values():  # warm both up: connections, caches, the step processes
            for _ in range(5):
                http_way()
                engine_way()
        for number in range(rounds):
            for what, (http_way, engine_way) in pairs.items():
                order = ((http_way, "http"), (engine_way, "engine"))
                for way, how in order if number % 2 == 0 else reversed(order):
                    samples[f"{what}_{how}"].extend(timed(way) for _ in range(each))
    client.conn.close()
    figures: dict = {"rows": rows, "bytes": size}
    for key, values in samples.items():
        figures[f"{key}_p50"] = statistics.median(values)
        figures[f"{key}_p95"] = percentile(values, 95)
    for what in ("list", "raise", "complete"):
        figures[f"{what}_ratio"] = figures[f"{what}_http_p50"] / figures[f"{what}_engine_p50"]
    return figures


def run(kind: str, cases: int, rounds: int, each: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        url = database(kind, folder)
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        built = build(make_sessions(engine), cases)
        engine.dispose()
        figures = {"db": kind, "open": built["open"], "build_s": time.perf_counter() - started}
        server, port = serve(url, folder)
        try:
            figures.update(measure(url, port, built, rounds, each))
        finally:
            server.terminate()
            server.wait(timeout=30)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--each", type=int, default=20, help="samples of each action and way in a round")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run(kind, args.cases, args.rounds, args.each) for kind in kinds]
    lines = [
        ("open cases", "open", "{:,}"),
        ("task list: rows, bytes", None, None),
        ("task list p50 / p95 HTTP (ms) (target p95 < 10)", ("list_http_p50", "list_http_p95"), "{:.2f} / {:.2f}"),
        ("task list p50 / p95 in-process (ms)", ("list_engine_p50", "list_engine_p95"), "{:.2f} / {:.2f}"),
        ("task list ratio of medians", "list_ratio", "{:.2f}"),
        ("raise p50 / p95 HTTP (ms)", ("raise_http_p50", "raise_http_p95"), "{:.2f} / {:.2f}"),
        ("raise p50 / p95 in-process (ms)", ("raise_engine_p50", "raise_engine_p95"), "{:.2f} / {:.2f}"),
        ("raise ratio of medians (target <= 1.8)", "raise_ratio", "{:.2f}"),
        ("complete p50 / p95 HTTP (ms)", ("complete_http_p50", "complete_http_p95"), "{:.2f} / {:.2f}"),
        ("complete p50 / p95 in-process (ms)", ("complete_engine_p50", "complete_engine_p95"), "{:.2f} / {:.2f}"),
        ("complete ratio of medians (target <= 1.8)", "complete_ratio", "{:.2f}"),
    ]
    print(f"{'':50}" + "".join(f"{r['db']:>18}" for r in results))
    for label, key, fmt in lines:
        if key is None:
            cells = [f"{r['rows']}, {r['bytes']:,}" for r in results]
        elif isinstance(key, tuple):
            cells = [fmt.format(*(r[k] for k in key)) for r in results]
        else:
            cells = [fmt.format(r[key]) for r in results]
        print(f"{label:50}" + "".join(f"{cell:>18}" for cell in cells))


if __name__ == "__main__":
    main()
