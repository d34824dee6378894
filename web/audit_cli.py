"""`flask --app web audit ...`: the tamper-evident log from the command line: make a signing key, show the public
key auditors trust, take new history into the log now, and verify it."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.audit.verify import verify

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
def verify_command(verifier: str | None) -> None:
    """Verify the whole log: every entry against its row, every challenge's chain, the tree against every
    checkpoint, every signature. Exits 1 and says where, if anything was altered."""
    signer = audit_signer(current_app)
    report = verify(db.session, verifier or (signer.verifier() if signer else None))
    for finding in report.findings:
        click.echo(f"{finding.kind:10} {finding.where:22} {finding.message}")
    rate = report.entries / report.seconds if report.seconds else 0
    click.echo(f"{report.entries} entries, {report.checkpoints} checkpoints verified in {report.seconds:.2f} s "
               f"({rate:,.0f} entries/s): " + ("the log verifies" if report.ok else f"{len(report.findings)} problems"))
    if not report.ok:
        raise SystemExit(1)
