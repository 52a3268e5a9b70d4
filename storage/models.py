"""The tables. Money is integer cents; times are aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    monthly_rent_cents: Mapped[int] = mapped_column(BigInteger)
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(16))
    house_number: Mapped[str | None] = mapped_column(String(16))
    house_number_suffix: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    municipality: Mapped[str | None] = mapped_column(String(100))
    administrator: Mapped[str | None] = mapped_column(String(200))  # bewindvoerder
    debt_assistance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    contact_points: Mapped[list[ContactPoint]] = relationship(back_populates="tenant")


class ContactPoint(Base):
    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("tenant_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320), index=True)
    # "import": from the corporation's records; "linked": proven by the tenant (deep link).
    source: Mapped[str] = mapped_column(String(16), default="import")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]  # no longer in the corporation's records
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # The same channel and address is in use for another tenant too (kept by the importer).
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    last_inbound_at: Mapped[datetime | None]  # the WhatsApp 24-hour window needs it
    created_at: Mapped[datetime]

    tenant: Mapped[Tenant] = relationship(back_populates="contact_points")

    @property
    def usable(self) -> bool:
        return self.opted_out_at is None and self.unreachable_at is None and self.retired_at is None


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="consultant")
    # A consultant in a team sees only its municipalities ([teams] in the policy).
    team: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The workplace language they chose ("nl", "en"); None: not chosen yet, Dutch.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_due", "next_action_at"),
        Index("ix_cases_tenant_status", "tenant_id", "status"),
        Index("ix_cases_queue", "status", "escalation_priority"),
        # Every day's list rewrites most balances: with half of each page free, PostgreSQL
        # writes the new version beside the old without touching the indexes (0012).
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    stage: Mapped[int] = mapped_column(Integer, default=0)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    arrears_since: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(32))
    next_action_at: Mapped[datetime | None]
    last_stage_at: Mapped[datetime | None]
    last_contact_at: Mapped[datetime | None]
    last_reply_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    escalation_reason: Mapped[str | None] = mapped_column(String(32))
    escalation_priority: Mapped[int | None] = mapped_column(Integer)
    escalated_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every change; consultants' edits check it (optimistic locking).
    version: Mapped[int] = mapped_column(Integer, default=1)

    tenant: Mapped[Tenant] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        # The outbox in the order it is claimed (due first, then as written): a claim reads
        # only the rows it takes, however long the queue.
        Index("ix_messages_outbox", "status", "next_attempt_at", "id"),
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
        # What was said to an address we could not tie to a tenant (answered once a day).
        Index("ix_messages_address", "channel", "address", "created_at"),
        # The inbox: a tenant's messages not yet understood, in order per address.
        Index("ix_messages_inbox", "direction", "status", "channel", "address", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_points.id", ondelete="SET NULL")
    )
    direction: Mapped[str] = mapped_column(String(3))  # "out" | "in"
    # out: "reminder" (counts for the weekly limit), "reply", "notice"; in: "reply".
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    stage: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # out: queued → sending → sent → delivered | failed;
    # in: pending (stored by the webhook) → received (understood and answered) | failed.
    status: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    # Which worker holds the claim: its outcome is recorded only while it still does.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    fallback_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Quiet hours bind reminders and notices, not answers to a tenant who just wrote.
    respect_quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    last_error: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    intent: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SendBudget(Base):
    """The next free send slot of a rate-limited sender, shared by every worker: a provider's
    limit holds for all processes together. Seconds since the epoch (wall clock)."""

    __tablename__ = "send_budgets"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float)


class CaseEvent(Base):
    """The append-only record of a case: every attempt, reply and decision."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))  # "system", "import", "tenant", a username
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PaymentPlan(Base):
    __tablename__ = "payment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # proposed, active, broken, completed, rejected
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # per instalment
    months: Mapped[int] = mapped_column(Integer)
    first_due: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))  # "tenant", "consultant"
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    # Tracking against the daily lists: instalments looked at so far, and how many missed.
    checked_instalments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime]


class LinkToken(Base):
    """A single-use, expiring token in a deep link that ties a chat (Telegram) to a tenant.

    It travels over a channel we already trust; whoever opens it proves they read it there.
    """

    __tablename__ = "link_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    contact_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_points.id", ondelete="SET NULL")
    )


class ArrearsSnapshot(Base):
    __tablename__ = "arrears_snapshots"
    __table_args__ = (UniqueConstraint("tenant_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    balance_cents: Mapped[int] = mapped_column(BigInteger)


class Dialogue(Base):
    """What the bot last asked in a conversation, so the next message can answer it.

    Keyed per case (the plan flow, the same on every channel) or per address (asking who
    writes from an address several tenants share). It expires; a stale question is dropped.
    """

    __tablename__ = "dialogues"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    step: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebSession(Base):
    """A consultant's login. The cookie holds the token, signed; the table holds only its
    hash, so a copy of the database cannot be used to log in, and logout ends it here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed logins from one client address: its own count (name_key "") and one per name
    typed from it (the name's SHA-256). See workplace.login_throttle."""

    __tablename__ = "login_throttle"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
    held_until: Mapped[datetime | None]
    # When the row says nothing any more (window and hold over): it may be deleted then.
    forget_at: Mapped[datetime] = mapped_column(index=True)


class Handover(Base):
    """A warm handover to a chain partner: with the tenant's consent, the dossier as it was
    handed over, and what the partner reported back."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_kind: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime]
    consent_how: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    dossier: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "accepted", "plan_in_place", "no_contact"; None until the partner reports back.
    feedback: Mapped[str | None] = mapped_column(String(32))
    feedback_note: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None]
    feedback_by: Mapped[str | None] = mapped_column(String(100))


class SignalBatch(Base):
    """One export of early signals for a municipality's platform."""

    __tablename__ = "signal_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer)


class MunicipalSignal(Base):
    """An early signal sent to the municipality (vroegsignalering): at most one per case."""

    __tablename__ = "municipality_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("signal_batches.id", ondelete="CASCADE"), index=True
    )
    municipality: Mapped[str | None] = mapped_column(String(100))
    amount_euros: Mapped[int] = mapped_column(BigInteger)
    months_in_arrears: Mapped[int] = mapped_column(Integer)
    warm: Mapped[bool] = mapped_column(Boolean)  # there is contact: a warm handover
    item: Mapped[dict[str, Any]] = mapped_column(JSON)  # the DDAS vroegsignaal item
    row: Mapped[dict[str, Any]] = mapped_column(JSON)  # the CSV line, with contact details
    created_at: Mapped[datetime]
