"""A case's audit bundle verifies with no server and no database: `python -m engine.audit.bundle verify`, run
as its own process, checks the checkpoint's signature, every entry's content and inclusion, and the chain; a
bundle changed after it was made does not verify, and says where."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

from engine import access_log
from engine.access_log import Caller
from engine.audit.bundle import check, make
from engine.audit.log import extend, latest_checkpoint
from engine.audit.notes import Signer
from engine.audit.summary import summary_pdf
from tests.walk import Walk, at

SIGNER = Signer.generate("test.invalid/audit")


def bundle_of(session, clock, walk) -> bytes:
    challenge = walk.refresh()
    access_log.log(session, clock, "case_read", Caller(walk.user("tees-auditor"), "10.0.0.7"),
                   challenge_id=challenge.id, what="replay")
    session.commit()
    extend(session, clock, SIGNER)
    return make(session, challenge, SIGNER.verifier(), summary_pdf(session, challenge, latest_checkpoint(session)),
                [])


def test_a_bundle_verifies_offline_in_a_process_of_its_own(session, clock, demo, tmp_path):
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.complete("tees-police-practitioner", "s1_respond", {"rationale": "Below threshold.", "response": "Noted."},
                  at(2026, 12, 21, 10))
    data = bundle_of(session, clock, walk)
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "engine.audit.bundle", "verify", str(path), "--key",
                           SIGNER.verifier()], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the bundle verifies" in done.stdout
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("bundle.json"))
    assert {"bundle.json", "summary.pdf", "procedure/procedure.bpmn", "procedure/lanes.json", "README.txt"} <= names
    assert [json.loads(e["header"])["type"] for e in manifest["entries"]].count("access") >= 1


def test_a_bundle_changed_after_it_was_made_does_not_verify_and_says_where(session, clock, demo):
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.complete("tees-police-practitioner", "s1_respond", {"rationale": "Below threshold.", "response": "Noted."},
                  at(2026, 12, 21, 10))
    data = bundle_of(session, clock, walk)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files["bundle.json"])
    completed = next(e for e in manifest["entries"] if json.loads(e["header"]).get("kind") == "task_completed")
    where = f"leaf {completed['leaf_index']}"

    def changed(content_text: str | None = None) -> list[str]:
        completed["content"]["answers"]["response"] = "We agreed with everything."
        if content_text is not None:
            completed["content_text"] = content_text
        files["bundle.json"] = json.dumps(manifest).encode()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        return check(out.getvalue(), SIGNER.verifier()).problems

    assert changed() == [f"{where}: its content as read is not its content as hashed"]
    assert changed(completed["content_text"].replace("Noted.", "We agreed with everything.")) == [
        f"{where}: its content is not the content its header names"]
    other = Signer.generate("test.invalid/audit")
    assert not check(data, other.verifier()).ok  # someone else's key: not this log's checkpoint
