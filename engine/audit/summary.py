"""A readable summary of a case's audit bundle: the challenge, what each stage recorded, its history event by
event, and what the bundle's checkpoint covers; the same `Document` the printed records use."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import events
from ..models import Challenge, Checkpoint
from ..queries.documents import Document, Section, local, task_label
from ..queries.printing import render_pdf
from ..queries.records import Answer, history, stage_records


def summary_document(session: Session, challenge: Challenge, checkpoint: Checkpoint | None) -> Document:
    header = [Answer("Challenge reference", challenge.reference), Answer("Case reference", challenge.subject_reference),
              Answer("Raised", local(challenge.raised_at)), Answer("Procedure version",
                                                                    f"{challenge.procedure_version.number} "
                                                                    f"({challenge.procedure_version.content_hash[:12]})"),
              Answer("Checkpoint", f"{checkpoint.tree_size} log entries, signed {local(checkpoint.at)}"
                     if checkpoint else "none yet")]
    sections = []
    for stage in stage_records(session, challenge):
        for record in stage.tasks:
            sections.append(Section(f"{task_label(challenge, record.task)} ({record.task.status})",
                                    record.answers))
    lines = [Answer(f"{local(e.at)}: {events.label(e.kind)}", events.describe(e.kind, e.data or {}) +
                    (f" (by {e.actor.display_name})" if e.actor else "")) for e in history(session, challenge)]
    sections.append(Section("History", lines, "Each event as the tamper-evident log holds it; bundle.json has "
                            "their hashes and inclusion proofs."))
    return Document("audit_summary", "Audit summary", challenge.partnership.name, challenge.reference, header,
                    sections)


def summary_pdf(session: Session, challenge: Challenge, checkpoint: Checkpoint | None) -> bytes:
    return render_pdf(summary_document(session, challenge, checkpoint))
