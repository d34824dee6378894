"""The tables. The engine owns them; the web app shares this metadata through Flask-SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which drops the zone) and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Partnership(Base):
    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Whose bank holidays count: "england-wales", "scotland" or "northern-ireland".
    nation: Mapped[str] = mapped_column(String(20), default="england-wales")
    # When "N working days" ends on its last day, London time ("17:00" unless the partnership says otherwise).
    end_of_working_day: Mapped[str] = mapped_column(String(5), default="17:00")
    # The procedure version new challenges start on: the one published last (or published again, to revert).
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedure_versions.id", use_alter=True, name="fk_partnerships_current_version"), nullable=True
    )
    # How to reach the partnership's Multi-Agency Safeguarding Hub (telephone, hours, out of hours): shown beside
    # the MASH advice wherever a child or adult is at significant risk of harm now.
    mash_contact: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Whether its people may sign in with a password kept by us (off when its identity provider signs them in).
    passwords_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # How many days after a challenge closes its personal content is erased (engine.retention); None: not set.
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)

    agencies: Mapped[list[Agency]] = relationship(back_populates="partnership", order_by="Agency.name")


class Agency(Base):
    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    # The partnership's own body (business unit, executive, scrutineer): partnership lanes resolve to it.
    is_partnership_body: Mapped[bool] = mapped_column(Boolean, default=False)

    partnership: Mapped[Partnership] = relationship(back_populates="agencies")


class Role(Base):
    """A role a partnership's people can hold (and a lane of its procedure can name): data per partnership, so a
    partnership can have a role no other has."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("partnership_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"
    # A unique index (not a constraint) so that SQLite adds it without rebuilding the table.
    __table_args__ = (Index("uq_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an administrator resets the password: the user chooses a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Creates partnerships and their first administrators (engine.administration); no case of any partnership.
    is_system_administrator: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Who the user is at their partnership's identity provider (OpenID Connect: issuer and subject), if anyone.
    oidc_issuer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # How their notices reach them by email (engine.digests): "each" as it happens, or "daily" in one digest at
    # digest_time (HH:MM, London); digest_due_at is when the next digest is due (the worker's schedule).
    notice_email: Mapped[str] = mapped_column(String(10), default="each", server_default="each")
    digest_time: Mapped[str] = mapped_column(String(5), default="08:00", server_default="08:00")
    digest_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    # The protocol session managers such as Flask-Login expect; plain attributes, no framework import.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class Membership(Base):
    """A user holds a role in an agency. Lanes are matched against (role, agency)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "agency_id", "role"),
        Index("ix_memberships_role_agency", "role", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(60))

    user: Mapped[User] = relationship(back_populates="memberships")
    agency: Mapped[Agency] = relationship()


class UserSession(Base):
    """A signed-in browser. The session cookie carries a random key whose hash is kept here, so logging out,
    a timeout or a password change ends the session on the server, whatever copy of the cookie remains."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # logout, idle, expired, password (changed or reset), deactivated
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str | None] = mapped_column(String(45), nullable=True)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Only the SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_from: Mapped[str | None] = mapped_column(String(45), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])


class ProcedureVersion(Base):
    """A published procedure: the BPMN stored once, keyed by the hash of everything that defines it."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("partnership_id", "procedure", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    procedure: Mapped[str] = mapped_column(String(60))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON)
    lanes: Mapped[dict] = mapped_column(JSON)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who published it: a username, or the command or loader that did.
    published_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    partnership: Mapped[Partnership] = relationship(foreign_keys=[partnership_id])


class ProcedureChange(Base):
    """Each time a partnership's current procedure version changed: published, or made current again (a
    rollback), by whom and why."""

    __tablename__ = "procedure_changes"
    __table_args__ = (Index("ix_procedure_changes_partnership", "partnership_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    action: Mapped[str] = mapped_column(String(20))  # published, made_current
    by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    version: Mapped[ProcedureVersion] = relationship()


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (Index("ix_challenges_next_timer_due", "next_timer_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raising_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    receiving_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    subject_reference: Mapped[str] = mapped_column(String(80))
    area: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    # Risk, as the referrer stated it when raising: kept on the row so every list can show, filter and sort by it
    # without reading the history. cp_or_lac: neither, child_protection_plan or looked_after.
    significant_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    cp_or_lac: Mapped[str] = mapped_column(String(30), default="neither")
    status: Mapped[str] = mapped_column(String(20), default="open")
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    current_stage: Mapped[int] = mapped_column(Integer, default=1)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_timer_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Serialized workflow without its spec (the spec lives once, in procedure_versions), zlib-compressed JSON:
    # a case's tasks repeat its data, so this is about a seventh of the JSON for 0.03 ms.
    state: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # lists never need it
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Set when a step of the case failed and nothing of it was kept (a script stopped at a limit, say): why, and
    # since when. The next step that succeeds clears it.
    set_aside_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    set_aside_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When its personal content was erased under its partnership's retention period (engine.retention).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __mapper_args__ = {"version_id_col": version}

    procedure_version: Mapped[ProcedureVersion] = relationship()
    partnership: Mapped[Partnership] = relationship()
    referrer: Mapped[User] = relationship()
    raising_agency: Mapped[Agency] = relationship(foreign_keys=[raising_agency_id])
    receiving_agency: Mapped[Agency] = relationship(foreign_keys=[receiving_agency_id])


class Task(Base):
    """One human task of a challenge, open or finished; what the task lists query without loading a workflow."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("challenge_id", "task_uuid"),
        Index("ix_tasks_open_by_role", "status", "role", "agency_id", "due_at", "id"),
        Index("ix_tasks_challenge", "challenge_id"),
        Index("ix_tasks_remind_at", "status", "remind_at"),
        # Where cases stall: a version's tasks opened in a period, with how long each took and its deadline.
        Index("ix_tasks_version_opened", "procedure_version_id", "opened_at", "bpmn_id", "status", "closed_at",
              "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    # The version of the procedure whose diagram opened it (where cases stall is counted per version).
    procedure_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedure_versions.id", name="fk_tasks_procedure_version"), nullable=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(60))
    side: Mapped[str] = mapped_column(String(80))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    stage: Mapped[int] = mapped_column(Integer)
    form: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # open, completed, or cancelled (a deadline or another path took the case on).
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # A task its procedure wants done "as soon as possible" (procedure.json's as_soon_as_possible): when its next
    # reminder to the holder and their manager is due (engine.cases.reminders); None for every other task.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    challenge: Mapped[Challenge] = relationship()
    agency: Mapped[Agency] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class Event(Base):
    """Append-only history of a challenge (its kinds are declared in engine.events). Rows are never updated or
    deleted (enforced below)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_challenge", "challenge_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    # The moment the case lived it (a timer's due moment when a case was caught up), and when it was written.
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    # The diagram element it concerns (a task, a timer), where there is one.
    element_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    task: Mapped[Task | None] = relationship()


class Notification(Base):
    """The transactional outbox: written with the change that caused it, delivered afterwards."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user", "user_id", "id"),
        Index("ix_notifications_delivery", "email_status", "next_attempt_at"),
        Index("ix_notifications_challenge_user", "challenge_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # pending, sent, or failed (gave up after the last attempt); digested: sent in its person's daily digest.
    email_status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    challenge: Mapped[Challenge | None] = relationship()


class AccessLog(Base):
    """Who signed in, used a token or read a case, when and from where: kept for the auditors."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_challenge", "challenge_id", "id"),
        Index("ix_access_log_user", "user_id", "id"),
        Index("ix_access_log_failed_logins_by_name", "kind", "username", "at"),
        Index("ix_access_log_failed_logins_by_address", "kind", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The name given at a login, known user or not (a failed login has no user).
    username: Mapped[str | None] = mapped_column(String(80), nullable=True)
    address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    # What was read: "page", "task page", "record:<key>", "pdf:<key>", "api", ...
    what: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    user: Mapped[User | None] = relationship()


class LogEntry(Base):
    """The tamper-evident log: one entry per event and per access record, in the order the log took them (its
    leaf index in the Merkle tree). An entry commits to its row through a canonical header whose content is held
    as a hash (so a retention rule may later erase the content and the log still verifies), and an event's entry
    names the previous entry of its challenge (a hash chain per challenge)."""

    __tablename__ = "log_entries"
    __table_args__ = (UniqueConstraint("source", "source_id"), Index("ix_log_entries_challenge", "challenge_id",
                                                                      "leaf_index"))

    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(10))  # event, access
    source_id: Mapped[int] = mapped_column(Integer)
    challenge_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(Base):
    """A signed tree head of the log (the C2SP tlog-checkpoint text, Ed25519-signed), written by the worker at
    least every minute while entries arrive."""

    __tablename__ = "checkpoints"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The public key it was signed with, as a signed-note verifier string (what the audit pages show).
    verifier: Mapped[str] = mapped_column(String(300))
    # The right edge of the tree at this size ([height, hex hash] pairs): the next checkpoint goes on from it.
    frontier: Mapped[list] = mapped_column(JSON)


class ChallengeFacts(Base):
    """What the partnership's reports count about a challenge, kept up to date by each step from its events
    (engine.reports.facts): who raised it against whom, about what, how far it went, how it ended."""

    __tablename__ = "challenge_facts"
    __table_args__ = (
        # Each report reads a partnership's challenges raised, or closed, in a period: these cover those reads.
        Index("ix_challenge_facts_raised", "partnership_id", "raised_at", "closed_at", "raised_on", "raising_agency_id",
              "receiving_agency_id", "area", "subject_kind"),
        Index("ix_challenge_facts_closed", "partnership_id", "closed_at", "stage_reached", "outcome", "satisfied",
              "referred_to_partnership", "working_days_to_close"),
    )

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True, autoincrement=False)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    raising_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    receiving_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    area: Mapped[str] = mapped_column(String(60))
    subject_kind: Mapped[str] = mapped_column(String(10))  # child, adult
    significant_risk: Mapped[bool] = mapped_column(Boolean)
    cp_or_lac: Mapped[str] = mapped_column(String(30))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_on: Mapped[date] = mapped_column(Date)  # the London day, for ages in working days
    status: Mapped[str] = mapped_column(String(20))  # open, closed
    stage_reached: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    working_days_to_close: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # yes, partly, no: the answer of whoever closed it, where the procedure asks (None: not recorded).
    satisfied: Mapped[str | None] = mapped_column(String(10), nullable=True)
    referred_to_partnership: Mapped[bool] = mapped_column(Boolean, default=False)
    deadlines_missed: Mapped[int] = mapped_column(Integer, default=0)


class StageFacts(Base):
    """One stage of a challenge: when it started and ended, its deadline (the latest of its tasks') and whether
    that was missed."""

    __tablename__ = "stage_facts"
    __table_args__ = (
        Index("ix_stage_facts_ended", "partnership_id", "ended_at", "stage", "working_days"),
        Index("ix_stage_facts_deadline", "partnership_id", "deadline", "stage", "missed", "ended_at"),
    )

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True, autoincrement=False)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    missed: Mapped[bool] = mapped_column(Boolean, default=False)
class AdministrationChange(Base):
    """A change an administrator made to a partnership (its agencies, roles, people, memberships, settings) or a
    system administrator made (a new partnership): append-only, its kinds declared in engine.administration."""

    __tablename__ = "administration_changes"
    __table_args__ = (Index("ix_administration_changes_partnership", "partnership_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"), nullable=True)
    # Who made it; None for a command run by an operator.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class IdentityProvider(Base):
    """A partnership's OpenID Connect provider (one tenant: Microsoft Entra ID gives each council or trust its
    own issuer), and what its tokens' app roles mean here."""

    __tablename__ = "identity_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(200))
    # Sealed (administration.secrets_box): never kept as given.
    client_secret: Mapped[str] = mapped_column(Text)
    # Create an account at a first sign-in, its memberships from the token's app roles (the "roles" claim).
    create_users: Mapped[bool] = mapped_column(Boolean, default=False)
    # App role value -> [agency name, role key]: what each of the provider's app roles makes its holder here.
    role_map: Mapped[dict] = mapped_column(JSON, default=dict)

    partnership: Mapped[Partnership] = relationship()


# The history is append-only in the database itself: updates and deletes of these tables are refused by
# triggers (SQLite and PostgreSQL alike). What an administrator of the database could still do, verification
# finds (engine.audit.verify).
APPEND_ONLY_TABLES = ("events", "access_log", "log_entries", "checkpoints")
# Append-only too, by the same triggers, though not (yet) taken into the tamper-evident log.
APPEND_ONLY_HISTORY = ("administration_changes",)


def append_only_statements(table: str, dialect: str) -> list[str]:
    """The SQL that makes a table refuse UPDATE and DELETE (SQLite or PostgreSQL)."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for op in ("update", "delete")]
    return ["CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION refuse_change()"]


# What an erased event's data is (engine.retention): the one change the history allows, and only of the data.
ERASED_DATA = '{"erased":true}'


def erasure_statements(dialect: str) -> list[str]:
    """The SQL that lets an event's data, and nothing else of it, be replaced by ERASED_DATA (retention), its
    other UPDATEs and every DELETE still refused. It replaces the events table's append-only trigger."""
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS events_append_only_update",
                "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events WHEN NOT ("
                f"CAST(NEW.data AS TEXT) = '{ERASED_DATA}' AND NEW.id = OLD.id AND "
                "NEW.challenge_id = OLD.challenge_id AND NEW.at = OLD.at AND NEW.recorded_at = OLD.recorded_at AND "
                "NEW.kind = OLD.kind AND NEW.actor_id IS OLD.actor_id AND NEW.task_id IS OLD.task_id AND "
                "NEW.element_id IS OLD.element_id) BEGIN SELECT RAISE(ABORT, 'events is append-only'); END"]
    return ["CREATE OR REPLACE FUNCTION refuse_change_but_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND NEW.data::text = '{ERASED_DATA}' AND NEW.id = OLD.id AND "
            "NEW.challenge_id = OLD.challenge_id AND NEW.at = OLD.at AND NEW.recorded_at = OLD.recorded_at AND "
            "NEW.kind = OLD.kind AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND "
            "NEW.task_id IS NOT DISTINCT FROM OLD.task_id AND NEW.element_id IS NOT DISTINCT FROM OLD.element_id "
            "THEN RETURN NEW; END IF; RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            "DROP TRIGGER IF EXISTS events_append_only ON events",
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW "
            "EXECUTE FUNCTION refuse_change_but_erasure()"]


for _table_name in APPEND_ONLY_TABLES + APPEND_ONLY_HISTORY:
    for _dialect in ("sqlite", "postgresql"):
        for _statement in append_only_statements(_table_name, _dialect) + (
                erasure_statements(_dialect) if _table_name == "events" else []):
            event.listen(Base.metadata.tables[_table_name], "after_create",
                         DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _events_are_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation("events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes_to_events(state) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is Event for mapper in getattr(state, "all_mappers", ())
    ):
        raise AppendOnlyViolation("events are append-only")


class TaskDraft(Base):
    """Answers to an open task saved without completing it (one draft a task, shared by its lane's holders, the
    last to save it named); dropped when the task is completed."""

    __tablename__ = "task_drafts"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    # The form's fields as typed, text only: what the form is drawn again from.
    values: Mapped[dict] = mapped_column(JSON)
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)

    saved_by: Mapped[User] = relationship()
class ProcedureDraft(Base):
    """A process owner's work on a procedure, saved without publishing: the same parts as a version (diagram,
    forms, lane map, procedure.json's keys), one draft per partnership and procedure. Publishing it makes a
    version; the draft stays for the next change."""

    __tablename__ = "procedure_drafts"
    __table_args__ = (UniqueConstraint("partnership_id", "procedure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    procedure: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(100))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON)
    lanes: Mapped[dict] = mapped_column(JSON)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    saved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class CaseMigration(Base):
    """A running case moved onto another version of its procedure, with what it was before (so the move can be
    undone while nothing has happened to the case since: its last event is still the migration's)."""

    __tablename__ = "case_migrations"
    __table_args__ = (Index("ix_case_migrations_challenge", "challenge_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    from_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    rearmed: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_state: Mapped[bytes] = mapped_column(LargeBinary)
    previous_next_timer_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    event_id: Mapped[int] = mapped_column(Integer)  # the migration's event: undone only while it is the last
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    challenge: Mapped[Challenge] = relationship()
    from_version: Mapped[ProcedureVersion] = relationship(foreign_keys=[from_version_id])
    to_version: Mapped[ProcedureVersion] = relationship(foreign_keys=[to_version_id])


class Attachment(Base):
    """A file added to a challenge (the summary email the procedure recommends, say), kept in the database with
    the event that records it (its name, size and SHA-256; never its content). Its content goes with the
    challenge's words when the retention period erases them (`content` is then NULL, `erased_at` set)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_challenge", "challenge_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    file_name: Mapped[str] = mapped_column(String(200))
    # What its content was found to be (engine.cases.attachments.KINDS: pdf, docx, odt, txt, eml, png, jpeg).
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)  # lists never need it
    stage: Mapped[int] = mapped_column(Integer)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    added_by: Mapped[User] = relationship()
