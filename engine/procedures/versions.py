"""Published procedure versions: immutable, stored once each, keyed by the hash of everything that defines them;
a partnership's current version is the one new challenges start on. Publishing makes a new version current (or,
for content published before, that version); making an earlier version current is a rollback. Every change of
the current version is recorded with who and why. Running cases stay on the version they started on."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..bpmn.parser import cached_procedure
from ..clock import Clock
from ..errors import NotFound
from ..models import Challenge, Partnership, ProcedureChange, ProcedureVersion, Role
from .check import check_procedure
from .files import ProcedureFiles


def roles_of(session: Session, partnership_id: int) -> dict[str, str]:
    """The partnership's roles: key -> label."""
    return dict(session.execute(select(Role.key, Role.label).where(Role.partnership_id == partnership_id)
                                .order_by(Role.label)).all())


def stored_version(session: Session, partnership: Partnership, files: ProcedureFiles) -> ProcedureVersion | None:
    return session.scalar(
        select(ProcedureVersion).where(
            ProcedureVersion.partnership_id == partnership.id,
            ProcedureVersion.procedure == files.procedure,
            ProcedureVersion.content_hash == files.content_hash(),
        )
    )


def versions_of(session: Session, partnership_id: int) -> list[ProcedureVersion]:
    return list(session.scalars(select(ProcedureVersion).where(ProcedureVersion.partnership_id == partnership_id)
                                .order_by(ProcedureVersion.procedure, ProcedureVersion.number)))


def _record(session: Session, clock: Clock, partnership: Partnership, version: ProcedureVersion, action: str,
            by: str | None, reason: str | None) -> None:
    partnership.current_version_id = version.id
    session.add(ProcedureChange(at=clock.now(), partnership_id=partnership.id, version_id=version.id, action=action,
                                by=by, reason=reason))


def publish(session: Session, clock: Clock, partnership: Partnership, files: ProcedureFiles, by: str | None = None,
            reason: str | None = None) -> ProcedureVersion:
    """Check the files against the partnership's roles, store them as a new version (or find that content
    published before) and make it current. The caller commits."""
    check_procedure(files, set(roles_of(session, partnership.id)))
    existing = stored_version(session, partnership, files)
    if existing is not None:
        if partnership.current_version_id != existing.id:
            _record(session, clock, partnership, existing, "made_current", by, reason or "published again")
        return existing
    number = (session.scalar(select(func.max(ProcedureVersion.number)).where(
        ProcedureVersion.partnership_id == partnership.id, ProcedureVersion.procedure == files.procedure)) or 0) + 1
    version = ProcedureVersion(
        partnership_id=partnership.id, procedure=files.procedure, number=number, title=files.title,
        process_id=files.process_id, content_hash=files.content_hash(), bpmn_xml=files.bpmn_xml, forms=files.forms,
        lanes=files.lanes, meta=files.meta, published_at=clock.now(), published_by=by,
    )
    session.add(version)
    session.flush()
    _record(session, clock, partnership, version, "published", by, reason)
    return version


def publish_seed(session: Session, clock: Clock, partnership: Partnership, files: ProcedureFiles,
                 by: str = "demo loader") -> ProcedureVersion | None:
    """Publish a seed folder (the demo's) only if the partnership has no version of that procedure yet: loading
    the demo again never replaces a version published since, nor rolls back to an older file."""
    has_one = session.scalar(select(ProcedureVersion.id).where(ProcedureVersion.partnership_id == partnership.id,
                                                               ProcedureVersion.procedure == files.procedure))
    if has_one is not None:
        return None
    return publish(session, clock, partnership, files, by=by, reason="the demo's procedure")


def make_current(session: Session, clock: Clock, partnership: Partnership, number: int, procedure: str | None = None,
                 by: str | None = None, reason: str | None = None) -> ProcedureVersion:
    """Make version `number` current again (a rollback): new challenges start on it; open ones keep theirs.
    The caller commits."""
    query = select(ProcedureVersion).where(ProcedureVersion.partnership_id == partnership.id,
                                           ProcedureVersion.number == number)
    if procedure is not None:
        query = query.where(ProcedureVersion.procedure == procedure)
    version = session.scalar(query.order_by(ProcedureVersion.id.desc()).limit(1))
    if version is None:
        raise NotFound(f"{partnership.slug} has no version {number}.")
    if partnership.current_version_id != version.id:
        _record(session, clock, partnership, version, "made_current", by, reason)
    return version


def files_of(version: ProcedureVersion) -> ProcedureFiles:
    """A published version as files (to export it)."""
    return ProcedureFiles(procedure=version.procedure, title=version.title, process_id=version.process_id,
                          bpmn_xml=version.bpmn_xml, forms=dict(version.forms), lanes=dict(version.lanes),
                          meta=dict(version.meta))


def current_version(session: Session, partnership_id: int) -> ProcedureVersion | None:
    partnership = session.get(Partnership, partnership_id)
    if partnership is None or partnership.current_version_id is None:
        return None
    return published_version(session, partnership.current_version_id)


# A published version is never changed or deleted (publishing other content makes another row), so each process
# reads a version once per database and hands each session a copy: the ORM's pattern for objects kept in a
# cache, merge(load=False).
_published: WeakKeyDictionary[Engine, dict[int, ProcedureVersion]] = WeakKeyDictionary()


def version_of(session: Session, challenge: Challenge) -> ProcedureVersion:
    """The challenge's procedure version, put in the session without a query once this process has read it, so
    `challenge.procedure_version` needs none either."""
    version = published_version(session, challenge.procedure_version_id)
    set_committed_value(challenge, "procedure_version", version)
    return version


def published_version(session: Session, version_id: int) -> ProcedureVersion:
    """The published version with this id, put in the session without a query once this process has read it."""
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
    return version


def specs_of(version: ProcedureVersion) -> tuple[Any, dict[str, Any]]:
    return cached_procedure(version.content_hash, version.bpmn_xml, version.process_id)
