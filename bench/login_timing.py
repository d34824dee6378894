"""How long a refused login takes for a username that exists and for one that does not, side by side, at the
production password cost (PC_PASSWORD_ITERATIONS, 200,000 unless set): the two must be alike, or the response
time tells which usernames exist. `python bench/login_timing.py [--rounds N]` prints medians and their ratio."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.clock import MovableClock  # noqa: E402
from engine.db import make_engine, make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.errors import Refused, Throttled  # noqa: E402
from engine.models import Base  # noqa: E402
from engine.signin import log_in  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/timing.sqlite3")
        Base.metadata.create_all(engine)
        sessions = make_sessions(engine)
        clock = MovableClock(datetime(2026, 12, 18, 15, 0, tzinfo=UTC))
        with sessions() as session:
            load_demo(session, clock)
        times = {"known username, wrong password": [], "unknown username": []}
        with sessions() as session:
            for n in range(args.rounds):
                for label, name in (("known username, wrong password", "csc-practitioner"),
                                    ("unknown username", f"nobody-{n}")):
                    clock.advance(minutes=20)  # past any throttling: each attempt is a first one
                    started = time.perf_counter()
                    try:
                        log_in(session, clock, name, "not the password", f"10.0.0.{n % 250}")
                    except (Refused, Throttled):
                        pass
                    times[label].append(time.perf_counter() - started)
        medians = {label: statistics.median(values) * 1000 for label, values in times.items()}
    for label, value in medians.items():
        print(f"{label:36} median {value:7.1f} ms")
    known, unknown = medians.values()
    print(f"{'ratio unknown / known':36}        {unknown / known:7.2f}")


if __name__ == "__main__":
    main()
