"""`flask --app web audit ...`: the tamper-evident log from the command line: make a signing key, show the public
key auditors trust, take new history into the log now, and verify it."""

from __future__ import annotations

import os
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from engine.audit import bundle
from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.audit.reexecute import reexecute
from engine.audit.verify import verify
from engine.models import Challenge

from .database import clock, db
from .security import audit_signer

audit = AppGroup("audit", help="The tamper-evident log: keys, checkpoints and verification.")


@audit.command("new-key")
@click.option("--name", default=None, help="The log's name (default: PC_AUDIT_LOG_NAME).")
def new_key(name: str | None) -> None:
    """Print a new signing key (keep it secret: it goes in PC_AUDIT_KEY) and, on stderr, its public key."""
    signer = Signer.generate(name or current_app.config["AUDIT_LOG_NAME"])
    click.echo(signer.text())
    click.echo(f"public key: {signer.verifier()}", err=True)


@audit.command("public-key")
def public_key() -> None:
    """Print the public key checkpoints are signed with, as auditors are given it."""
    signer = audit_signer(current_app)
    if signer is None:
        raise click.ClickException("no signing key: set PC_AUDIT_KEY")
    click.echo(signer.verifier())


@audit.command("log")
def log_now() -> None:
    """Take new history into the log and sign a checkpoint now (the worker does it every 20 seconds)."""
    signer = audit_signer(current_app)
    if signer is None:
        raise click.ClickException("no signing key: set PC_AUDIT_KEY")
    done = extend(db.session, clock(), signer)
    click.echo(f"{done.added} entries added; the log has {done.size}"
               + (f"; checkpoint {done.checkpoint} signed" if done.checkpoint else ""))


@audit.command("verify")
@click.option("--key", "verifier", default=None, help="The public key to trust (default: this server's own).")
@click.option("--replay", is_flag=True, help="Also re-execute every case from its history and compare.")
@click.option("--bundle", "bundle_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Verify an audit bundle instead (no database needed; also python -m engine.audit.bundle).")
@click.option("--workers", type=click.IntRange(1, 64), default=lambda: os.cpu_count() or 1, show_default="the CPUs",
              help="Processes checking the entries against their rows (a large log).")
def verify_command(verifier: str | None, replay: bool, bundle_path: str | None, workers: int) -> None:
    """Verify the whole log: every entry against its row, every challenge's chain, the tree against every
    checkpoint, every signature; with --replay, every case re-executed from its history. Exits 1 and says
    where, if anything was altered."""
    if bundle_path:
        with open(bundle_path, "rb") as file:
            result = bundle.check(file.read(), verifier)
        for problem in result.problems:
            click.echo(f"problem: {problem}")
        click.echo(f"{result.entries} entries: " + ("the bundle verifies" if result.ok else "it does not verify"))
        raise SystemExit(0 if result.ok else 1)
    signer = audit_signer(current_app)
    report = verify(db.session, verifier or (signer.verifier() if signer else None), workers=workers)
    for finding in report.findings:
        click.echo(f"{finding.kind:10} {finding.where:22} {finding.message}")
    rate = report.entries / report.seconds if report.seconds else 0
    click.echo(f"{report.entries} entries, {report.checkpoints} checkpoints verified in {report.seconds:.2f} s "
               f"({rate:,.0f} entries/s): " + ("the log verifies" if report.ok else f"{len(report.findings)} problems"))
    if report.erased:
        click.echo(f"{len(report.erased)} entries erased under a retention period: each verified by its header "
                   "and the content hash the log recorded (the content itself is gone)")
    failed = not report.ok
    if replay:
        started, parted = time.perf_counter(), 0
        # An erased case's answers are gone: it cannot be re-executed (its log entries still verify above).
        cases = db.session.scalars(select(Challenge).where(Challenge.erased_at.is_(None))
                                   .order_by(Challenge.id)).all()
        for challenge in cases:
            result = reexecute(db.session, challenge)
            if not result.matches:
                parted += 1
                where = f"event {result.event_id}" if result.event_id else "its history"
                click.echo(f"replay     challenge {challenge.id:<12} parts at {where}: {result.message}")
        seconds = time.perf_counter() - started
        click.echo(f"{len(cases)} cases re-executed in {seconds:.1f} s "
                   f"({seconds / max(len(cases), 1) * 1000:.1f} ms a case): "
                   + ("every replay matches" if not parted else f"{parted} do not match"))
        failed = failed or bool(parted)
    if failed:
        raise SystemExit(1)
