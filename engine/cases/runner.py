"""Step processes: every step of a case (`run.run_step`) is taken in a separate process of ours, so a diagram's
script can neither reach this process nor exhaust it. Each step process:

- starts with an empty environment (no secret key, no database address) and holds no connection;
- caps its own memory (its address space, `PC_STEP_MEMORY_MB`) before it reads a request;
- is given `PC_STEP_SECONDS` for a step, and is killed past it (the step fails, nothing of it is kept);
- speaks JSON over its standard input and output, never pickle: all that comes back is data.

The processes are started when first needed, reused, one per concurrent step, and replaced when one is killed or
runs out of memory. Scripts are bounded inside the process too (`engine.bpmn.scripting`), with clearer messages;
the process bounds are what hold whatever a script does."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from .run import StepRefused, StepRequest, StepResult, replay_case, result_from_dict, result_to_dict, run_step

STEP_SECONDS = float(os.environ.get("PC_STEP_SECONDS") or 10)
STEP_MEMORY_MB = int(os.environ.get("PC_STEP_MEMORY_MB") or 1024)
# The largest result a step may send back (its state and moments); far beyond any real case.
MAX_MESSAGE = 64 * 1024 * 1024
_ROOT = Path(__file__).resolve().parent.parent.parent
_HEADER = struct.Struct(">I")


def _write(stream, value: dict[str, Any]) -> None:
    body = json.dumps(value, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


class StepProcess:
    def __init__(self) -> None:
        # Nothing of ours: Python starts from its own path (sys.executable), with no variable set.
        environment = {"PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cases.runner", str(STEP_MEMORY_MB)], cwd=_ROOT, env=environment,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self.versions: set[str] = set()  # the content hashes this process has been given in full

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        fd, chunks, wanted = self.process.stdout.fileno(), [], size
        while wanted:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(wanted, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def take(self, request: StepRequest, seconds: float) -> StepResult:
        message = asdict(request)
        for key in ("version", "migrate_to"):  # a diagram goes to a process once
            if message.get(key) and message[key]["content_hash"] in self.versions:
                message[key] = {k: v for k, v in message[key].items() if k != "bpmn_xml"}
        reply = self.ask({"step": message}, seconds)
        self.versions.add(request.version["content_hash"])
        if request.migrate_to:
            self.versions.add(request.migrate_to["content_hash"])
        if "refused" in reply:
            if reply.get("retire"):
                self.kill()
            raise StepRefused(reply["refused"], reply["message"])
        return result_from_dict(reply["result"])

    def ask(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        try:
            _write(self.process.stdin, message)
            size, = _HEADER.unpack(self._read_exactly(_HEADER.size, deadline))
            if size > MAX_MESSAGE:
                raise EOFError
            return json.loads(self._read_exactly(size, deadline))
        except TimeoutError:
            self.kill()
            raise StepRefused("failed", f"the procedure could not move on: the step took longer than {seconds:g} s "
                                        "and was stopped") from None
        except (EOFError, BrokenPipeError, OSError, ValueError):
            self.kill()
            raise StepRefused("failed", "the procedure could not move on: the step process stopped (it ran out of "
                                        f"its {STEP_MEMORY_MB} MB, or failed)") from None


class StepProcesses:
    """The step processes of this (parent) process: one is lent to each step at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[StepProcess] = []
        self.pid = os.getpid()

    def take(self, request: StepRequest, seconds: float | None = None) -> StepResult:
        return self._lend(lambda process: process.take(request, STEP_SECONDS if seconds is None else seconds))

    def replay(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        def ask(process: StepProcess) -> dict[str, Any]:
            reply = process.ask({"replay": request}, seconds)
            if "refused" in reply:
                raise StepRefused(reply["refused"], reply["message"])
            return reply["result"]

        return self._lend(ask)

    def check_scripts(self, bpmn_xml: str) -> str | None:
        reply = self._lend(lambda process: process.ask({"check": bpmn_xml}, STEP_SECONDS))
        return reply.get("problem")

    def _lend(self, use):
        with self.lock:
            if self.pid != os.getpid():  # forked (a server's worker): the parent's processes are not ours
                self.idle, self.pid = [], os.getpid()
            process = self.idle.pop() if self.idle else None
        while process is not None and not process.alive():
            with self.lock:
                process = self.idle.pop() if self.idle else None
        process = process or StepProcess()
        try:
            return use(process)
        finally:
            if process.alive():
                with self.lock:
                    self.idle.append(process)

    def close(self) -> None:
        with self.lock:
            for process in self.idle:
                process.kill()
            self.idle = []


PROCESSES = StepProcesses()
atexit.register(PROCESSES.close)  # the step processes end with this one


def take_step(request: StepRequest, seconds: float | None = None) -> StepResult:
    """Take the step in a step process and return what happened; `StepRefused` when it cannot be taken."""
    return PROCESSES.take(request, seconds)


def replay(request: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
    """Re-execute a case from its history in a step process (`run.replay_case`)."""
    return PROCESSES.replay(request, STEP_SECONDS * 6 if seconds is None else seconds)


def check_scripts(bpmn_xml: str) -> str | None:
    """Check a diagram's scripts and expressions in a step process (engine.bpmn.checks): what is wrong, or
    None. `StepRefused` if the check itself ran out of time or memory. The answer depends on the diagram alone,
    so each diagram is checked once per process."""
    return _checked(hashlib.sha256(bpmn_xml.encode()).hexdigest(), bpmn_xml)


@lru_cache(maxsize=256)
def _checked(digest: str, bpmn_xml: str) -> str | None:
    return PROCESSES.check_scripts(bpmn_xml)


# --- the step process itself --------------------------------------------------------------------------------


def _serve(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    # Anything printed by accident goes to the log, never into the channel.
    os.dup2(2, 1)
    versions: dict[str, dict[str, str]] = {}
    while True:
        header = channel_in.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the parent closed our input: it has gone
        size, = _HEADER.unpack(header)
        message = json.loads(channel_in.read(size))
        try:
            if "check" in message:
                reply = {"problem": _problem(message["check"])}
            elif "replay" in message:
                reply = {"result": replay_case(message["replay"])}
            else:
                step = message["step"]
                for key in ("version", "migrate_to"):
                    version = step.get(key)
                    if version is None:
                        continue
                    if "bpmn_xml" in version:
                        versions[version["content_hash"]] = version
                    step[key] = versions[version["content_hash"]]
                reply = {"result": result_to_dict(run_step(StepRequest(**step)))}
        except StepRefused as exc:
            reply = {"refused": exc.kind, "message": str(exc), "retire": exc.retire}
        except MemoryError:
            reply = {"refused": "failed", "message": "the procedure could not move on: the step ran out of memory",
                     "retire": True}
        try:
            _write(channel_out, reply)
        except MemoryError:
            return


def _problem(bpmn_xml: str) -> str | None:
    from ..bpmn.checks import check_scripts as check
    from ..errors import InvalidProcedure

    try:
        check(bpmn_xml)
    except InvalidProcedure as exc:
        return str(exc)
    return None


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
