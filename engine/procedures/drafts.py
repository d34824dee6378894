"""A process owner's draft of a procedure: worked on in the browser and saved without publishing, one per
partnership and procedure. A procedure with no draft starts from its current version, a new one from a blank
diagram. Validating a draft lists every problem (`check.problems_of`); publishing one goes through
`versions.publish`, so it makes an immutable version current exactly as the command does."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import InvalidProcedure
from ..models import Agency, Membership, Partnership, ProcedureDraft, ProcedureVersion, User
from .check import Problem, problems_of
from .files import ProcedureFiles
from .versions import current_version, files_of, publish, roles_of

OWNER_ROLE = "process_owner"
# A draft's parts are bounded so a saved draft can always be checked and published (the request is too).
MAX_DIAGRAM_BYTES = 2_000_000
NAME = re.compile(r"[a-z][a-z0-9_-]{0,59}")

BLANK_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" \
id="definitions_{process_id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="raised" name="Challenge raised" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_{process_id}">
    <bpmndi:BPMNPlane id="plane_{process_id}" bpmnElement="{process_id}">
      <bpmndi:BPMNShape id="raised_di" bpmnElement="raised">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def owned_partnerships(session: Session, user: User) -> list[Partnership]:
    """The partnerships whose process owner the user is."""
    return list(session.scalars(
        select(Partnership).where(Partnership.id.in_(
            select(Agency.partnership_id).join(Membership, Membership.agency_id == Agency.id)
            .where(Membership.user_id == user.id, Membership.role == OWNER_ROLE)))
        .order_by(Partnership.name)))


def is_process_owner(session: Session, user: User) -> bool:
    return bool(session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                           Membership.role == OWNER_ROLE).limit(1)))


def _as_files(draft: ProcedureDraft) -> ProcedureFiles:
    return ProcedureFiles(procedure=draft.procedure, title=draft.title, process_id=draft.process_id,
                          bpmn_xml=draft.bpmn_xml, forms=dict(draft.forms), lanes=dict(draft.lanes),
                          meta=dict(draft.meta))


def draft_of(session: Session, partnership: Partnership, procedure: str) -> ProcedureDraft | None:
    return session.scalar(select(ProcedureDraft).where(ProcedureDraft.partnership_id == partnership.id,
                                                       ProcedureDraft.procedure == procedure))


def procedures_of(session: Session, partnership: Partnership) -> list[str]:
    """The partnership's procedures: those with a version and those with only a draft."""
    names = set(session.scalars(select(ProcedureVersion.procedure).where(
        ProcedureVersion.partnership_id == partnership.id)))
    names |= set(session.scalars(select(ProcedureDraft.procedure).where(
        ProcedureDraft.partnership_id == partnership.id)))
    return sorted(names)


def working_files(session: Session, partnership: Partnership, procedure: str) -> ProcedureFiles:
    """What the owner edits: the draft, else the latest version of the procedure (current if it is the current
    one's); `InvalidProcedure` when it has neither."""
    draft = draft_of(session, partnership, procedure)
    if draft is not None:
        return _as_files(draft)
    current = current_version(session, partnership.id)
    version = current if current is not None and current.procedure == procedure else session.scalar(
        select(ProcedureVersion).where(ProcedureVersion.partnership_id == partnership.id,
                                       ProcedureVersion.procedure == procedure)
        .order_by(ProcedureVersion.number.desc()).limit(1))
    if version is None:
        raise InvalidProcedure(f"{partnership.name} has no procedure {procedure!r}")
    return files_of(version)


def new_procedure(session: Session, clock: Clock, partnership: Partnership, procedure: str, title: str,
                  by: str | None) -> ProcedureDraft:
    """A draft of a new procedure from a blank diagram (a start event only). The caller commits."""
    if not NAME.fullmatch(procedure):
        raise InvalidProcedure("a procedure's short name is lower-case letters, digits, - and _, starting with a "
                               "letter (at most 60)")
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidProcedure("a procedure needs a title (at most 200 characters)")
    if procedure in procedures_of(session, partnership):
        raise InvalidProcedure(f"{partnership.name} already has a procedure {procedure!r}")
    process_id = re.sub(r"\W", "_", procedure) + "_procedure"
    files = ProcedureFiles(procedure=procedure, title=title, process_id=process_id,
                           bpmn_xml=BLANK_DIAGRAM.format(process_id=process_id), forms={}, lanes={})
    return save_draft(session, clock, partnership, files, by)


def save_draft(session: Session, clock: Clock, partnership: Partnership, files: ProcedureFiles,
               by: str | None) -> ProcedureDraft:
    """Keep the owner's work as the procedure's draft, checked only for what a draft must be to be kept (sizes
    and shapes); whether it can be published is `check`'s. The caller commits."""
    if len(files.bpmn_xml.encode()) > MAX_DIAGRAM_BYTES:
        raise InvalidProcedure(f"the diagram is larger than {MAX_DIAGRAM_BYTES // 1_000_000} MB")
    if not isinstance(files.forms, dict) or not all(isinstance(v, dict) for v in files.forms.values()):
        raise InvalidProcedure("forms must be an object of form name -> JSON Schema")
    if not isinstance(files.lanes, dict) or not all(isinstance(v, dict) for v in files.lanes.values()):
        raise InvalidProcedure("the lane map must be an object of lane name -> {role, side}")
    draft = draft_of(session, partnership, files.procedure)
    if draft is None:
        draft = ProcedureDraft(partnership_id=partnership.id, procedure=files.procedure)
        session.add(draft)
    draft.title, draft.process_id, draft.bpmn_xml = files.title, files.process_id, files.bpmn_xml
    draft.forms, draft.lanes, draft.meta = files.forms, files.lanes, files.meta
    draft.saved_at, draft.saved_by = clock.now(), by
    session.flush()
    return draft


def validate(session: Session, partnership: Partnership, files: ProcedureFiles) -> list[Problem]:
    """Every problem that would stop these files being published for the partnership."""
    problems, _ = problems_of(files, set(roles_of(session, partnership.id)))
    return problems


def publish_draft(session: Session, clock: Clock, partnership: Partnership, procedure: str, by: str | None,
                  reason: str | None) -> ProcedureVersion:
    """Publish the procedure's draft as its current version (refused, with the first problem, while any stands).
    The draft stays, to be worked on for the next version. The caller commits."""
    draft = draft_of(session, partnership, procedure)
    if draft is None:
        raise InvalidProcedure("there is no draft to publish: save the diagram first")
    files = _as_files(draft)
    problems = validate(session, partnership, files)
    if problems:
        raise InvalidProcedure(f"not published: {problems[0].message}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return publish(session, clock, partnership, files, by=by, reason=reason)


def import_draft(session: Session, clock: Clock, partnership: Partnership, files: ProcedureFiles,
                 by: str | None) -> ProcedureDraft:
    """An imported procedure (a zip of its folder) kept as its draft, only if it could be published as it is;
    else `InvalidProcedure` with its first problem, and nothing kept. The caller commits."""
    if not NAME.fullmatch(files.procedure):
        raise InvalidProcedure("procedure.json's procedure is lower-case letters, digits, - and _, starting with a "
                               "letter (at most 60)")
    problems = validate(session, partnership, files)
    if problems:
        raise InvalidProcedure(f"not imported: {problems[0].message}"
                               + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return save_draft(session, clock, partnership, files, by)
