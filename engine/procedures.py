"""Procedures: a folder in workflows/ (diagram, forms, lane map), checked and published as an immutable version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from .clock import Clock
from .forms import check_schema
from .models import Challenge, Partnership, ProcedureVersion
from .roles import ROLES, SIDES, valid_side
from .spiff import CLOCKED_TIMERS, InvalidProcedure, cached_procedure, parse_procedure

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"

# Names a diagram's functions take; a form field of the same name would hide the function.
RESERVED_FIELDS = {"now", "working_days_after", "working_days_before", "day_n", "hours_before", "notify",
                   "local_time"}


@dataclass(frozen=True)
class ProcedureFiles:
    procedure: str
    title: str
    process_id: str
    bpmn_xml: str
    forms: dict[str, Any]
    lanes: dict[str, Any]
    # Everything else procedure.json says: its source document, guidance shown to whoever raises a challenge.
    meta: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        canonical = json.dumps(
            {"bpmn": self.bpmn_xml, "forms": self.forms, "lanes": self.lanes, "process_id": self.process_id,
             "meta": self.meta},
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def read_folder(folder: Path | str) -> ProcedureFiles:
    folder = Path(folder)
    meta = json.loads((folder / "procedure.json").read_text())
    forms = {p.name: json.loads(p.read_text()) for p in sorted((folder / "forms").glob("*.json"))}
    return ProcedureFiles(
        procedure=meta["procedure"],
        title=meta["title"],
        process_id=meta["process_id"],
        bpmn_xml=(folder / "procedure.bpmn").read_text(),
        forms=forms,
        lanes=json.loads((folder / "lanes.json").read_text()),
        meta={k: v for k, v in meta.items() if k not in ("procedure", "title", "process_id")},
    )


def human_task_specs(spec, subprocess_specs) -> list:
    specs = list(spec.task_specs.values())
    for sub in subprocess_specs.values():
        specs.extend(sub.task_specs.values())
    return [ts for ts in specs if getattr(ts, "manual", False)]


def check_procedure(files: ProcedureFiles) -> tuple[Any, dict[str, Any]]:
    """Everything a case will need, checked before anything runs: raises `InvalidProcedure` with the reason."""
    spec, subprocess_specs = parse_procedure(files.bpmn_xml, files.process_id)
    for name, schema in files.forms.items():
        try:
            check_schema(schema)
        except SchemaError as exc:
            raise InvalidProcedure(f"form {name} is not a valid JSON Schema: {exc.message}") from None
        clashes = RESERVED_FIELDS & set(schema.get("properties", {}))
        if clashes:
            raise InvalidProcedure(f"form {name} uses reserved field names: {', '.join(sorted(clashes))}")
    for lane, entry in files.lanes.items():
        if entry.get("role") not in ROLES:
            raise InvalidProcedure(f"lane {lane!r} maps to unknown role {entry.get('role')!r}")
        if not valid_side(entry.get("side")) or len(entry["side"]) > 80 or len(lane) > 100:
            raise InvalidProcedure(f"lane {lane!r} has side {entry.get('side')!r}; use one of {', '.join(SIDES)}, "
                                   f"or agency_from:<field> for an agency chosen while the case runs")
    tasks = human_task_specs(spec, subprocess_specs)
    if not tasks:
        raise InvalidProcedure("the diagram has no user tasks")
    for ts in tasks:
        label = f"user task {ts.bpmn_name or ts.name!r}"
        form = ts.extensions.get("formJsonSchemaFilename")
        if not form or form not in files.forms:
            raise InvalidProcedure(f"{label} needs a form (formJsonSchemaFilename) that exists; got {form!r}")
        if not ts.lane or ts.lane not in files.lanes:
            raise InvalidProcedure(f"{label} must sit in a lane that the lane map names; got {ts.lane!r}")
        stage = ts.extensions.get("properties", {}).get("stage", "")
        if not stage.isdigit():
            raise InvalidProcedure(f"{label} needs a whole-number 'stage' property; got {stage!r}")
    for ts in spec.task_specs.values():
        definition = getattr(ts, "event_definition", None)
        if isinstance(definition, TimerEventDefinition) and not isinstance(definition, CLOCKED_TIMERS):
            raise InvalidProcedure(f"timer {ts.bpmn_name!r} is of a kind the engine cannot run on its clock")
    return spec, subprocess_specs


def stored_version(session: Session, partnership: Partnership, files: ProcedureFiles) -> ProcedureVersion | None:
    return session.scalar(
        select(ProcedureVersion).where(
            ProcedureVersion.partnership_id == partnership.id,
            ProcedureVersion.procedure == files.procedure,
            ProcedureVersion.content_hash == files.content_hash(),
        )
    )


def publish(session: Session, clock: Clock, partnership: Partnership, files: ProcedureFiles) -> ProcedureVersion:
    """Publish a version and make it the one new challenges start on. Content published before is stored
    once: publishing it again makes that version current again (a revert) without a new row."""
    check_procedure(files)
    digest = files.content_hash()
    existing = stored_version(session, partnership, files)
    if existing is not None:
        partnership.current_version_id = existing.id
        return existing
    number = (
        session.scalar(
            select(func.max(ProcedureVersion.number)).where(
                ProcedureVersion.partnership_id == partnership.id, ProcedureVersion.procedure == files.procedure
            )
        )
        or 0
    ) + 1
    version = ProcedureVersion(
        partnership_id=partnership.id,
        procedure=files.procedure,
        number=number,
        title=files.title,
        process_id=files.process_id,
        content_hash=digest,
        bpmn_xml=files.bpmn_xml,
        forms=files.forms,
        lanes=files.lanes,
        meta=files.meta,
        published_at=clock.now(),
    )
    session.add(version)
    session.flush()
    partnership.current_version_id = version.id
    return version


def publish_if_new(session: Session, clock: Clock, partnership: Partnership,
                   files: ProcedureFiles) -> ProcedureVersion:
    """Publish files from workflows/ unless that exact content was published before, so loading the folders at
    start-up never undoes a version a process owner published since."""
    existing = stored_version(session, partnership, files)
    if existing is not None and partnership.current_version_id is not None:
        return existing
    return publish(session, clock, partnership, files)


def current_version(session: Session, partnership_id: int) -> ProcedureVersion | None:
    partnership = session.get(Partnership, partnership_id)
    if partnership is None or partnership.current_version_id is None:
        return None
    return session.get(ProcedureVersion, partnership.current_version_id)


# A published version is never changed or deleted (publishing other content makes another row), so each process
# reads a version once per database and hands each session a copy: the ORM's pattern for objects kept in a
# cache, merge(load=False).
_published: WeakKeyDictionary[Engine, dict[int, ProcedureVersion]] = WeakKeyDictionary()


def version_of(session: Session, challenge: Challenge) -> ProcedureVersion:
    """The challenge's procedure version, put in the session without a query once this process has read it, so
    `challenge.procedure_version` needs none either."""
    version_id = challenge.procedure_version_id
    version = session.identity_map.get(identity_key(ProcedureVersion, version_id))
    if version is None:
        published = _published.setdefault(session.get_bind(), {})
        cached = published.get(version_id)
        if cached is None:
            version = session.get(ProcedureVersion, version_id)
            columns = {attr.key: getattr(version, attr.key) for attr in inspect(ProcedureVersion).column_attrs}
            cached = ProcedureVersion(**columns)
            make_transient_to_detached(cached)
            published[version_id] = cached
        else:
            version = session.merge(cached, load=False)
        # Held for the session's life (its identity map only holds objects weakly), so the next case of the
        # same procedure in this session finds it there.
        session.info.setdefault("procedure_versions", []).append(version)
    set_committed_value(challenge, "procedure_version", version)
    return version


def specs_of(version: ProcedureVersion) -> tuple[Any, dict[str, Any]]:
    return cached_procedure(version.content_hash, version.bpmn_xml, version.process_id)


@lru_cache(maxsize=1)
def raise_form() -> dict[str, Any]:
    return json.loads((WORKFLOWS / "raise.json").read_text())
