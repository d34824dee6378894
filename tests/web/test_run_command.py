"""The run command, as `make run` starts it: a real process serving the login page on its own, with the demo
loaded and the timer worker running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_migrates_loads_the_demo_and_serves_the_login_page(database_url, db_engine, tmp_path):
    from tests.conftest import empty_database

    empty_database(db_engine)  # serve builds the schema itself, through the migrations
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PC_DEMO": "1"}
    env.pop("SECRET_KEY", None)
    with (tmp_path / "serve.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.25)
        output = (tmp_path / "serve.log").read_text()
        assert body is not None, output
        assert "<h1>Log in</h1>" in body
        assert "timer worker started" in output
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_gunicorn_serves_the_app_with_several_workers(database_url, db_engine, demo, tmp_path):
    """The multi-process deployment of the README: gunicorn with several workers over the same database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "gunicorn-test-key"}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "3", "-b", f"127.0.0.1:{port}", "web:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        pages = []
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    pages.append(response.read().decode())
                if len(pages) == 6:
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.25)
        output = (tmp_path / "gunicorn.log").read_text()
        assert len(pages) == 6 and all("<h1>Log in</h1>" in page for page in pages), output
        assert output.count("Booting worker") == 3
    finally:
        server.terminate()
        server.wait(timeout=20)
