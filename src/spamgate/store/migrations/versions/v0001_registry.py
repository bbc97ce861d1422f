"""Registry: operators, certification, accounts, sender numbers, theft protection, block list,
API tokens, the hash-chained audit log and the registry state row.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from spamgate.registry.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


KINDS = ("carrier", "relay", "reseller")
CERT_STATES = (
    "applied",
    "documents_reviewed",
    "onsite_reviewed",
    "certified",
    "suspended",
    "rejected",
    "cancelled",
    "expired",
)
ROLES = ("regulator", "certifier", "carrier", "relay", "reseller")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("business_number", sa.String(10), nullable=True),
        sa.Column("smpp_system_id", sa.String(16), nullable=True),
        sa.Column("smpp_password_hash", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["operators.id"], name="fk_operators_parent_id", ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("name", name="uq_operators_name"),
        sa.UniqueConstraint("smpp_system_id", name="uq_operators_smpp_system_id"),
        sa.CheckConstraint(_in("kind", KINDS), name="ck_operators_kind"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="ck_operators_parent"),
    )
    op.create_index("ix_operators_parent_id", "operators", ["parent_id"])

    op.create_table(
        "certifications",
        sa.Column("operator_id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("certified_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name="fk_certifications_operator_id",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(_in("state", CERT_STATES), name="ck_certifications_state"),
    )

    op.create_table(
        "certification_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name="fk_certification_events_operator_id",
            ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_certification_events_operator_id", "certification_events", ["operator_id"])

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("business_number", sa.String(10), nullable=False),
        sa.Column("identity_evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("trust_tier", sa.String(16), nullable=False),
        sa.Column("send_secret", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_accounts_operator_id", ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("operator_id", "name", name="uq_accounts_operator_id_name"),
        sa.CheckConstraint(_in("status", ("active", "suspended")), name="ck_accounts_status"),
        sa.CheckConstraint(
            _in("trust_tier", ("new", "standard", "trusted")), name="ck_accounts_trust_tier"
        ),
    )
    op.create_index("ix_accounts_operator_id", "accounts", ["operator_id"])
    op.create_index("ix_accounts_business_number", "accounts", ["business_number"])

    op.create_table(
        "sender_numbers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_sender_numbers_account_id",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("account_id", "number", name="uq_sender_numbers_account_id_number"),
        sa.CheckConstraint(
            _in("status", ("active", "suspended", "revoked")), name="ck_sender_numbers_status"
        ),
    )
    op.create_index("ix_sender_numbers_account_id", "sender_numbers", ["account_id"])
    op.create_index("ix_sender_numbers_number", "sender_numbers", ["number"])

    op.create_table(
        "theft_protection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("number", name="uq_theft_protection_number"),
    )

    op.create_table(
        "blocklist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_blocklist_kind_value"),
        sa.CheckConstraint(_in("kind", ("number", "domain", "url")), name="ck_blocklist_kind"),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name="fk_api_tokens_operator_id",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("public_id", name="uq_api_tokens_public_id"),
        sa.CheckConstraint(_in("role", ROLES), name="ck_api_tokens_role"),
    )
    op.create_index("ix_api_tokens_operator_id", "api_tokens", ["operator_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("seq", name="uq_audit_log_seq"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_action", "audit_log", ["action"])

    state = op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_registry_state_single"),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0, "audit_seq": 0, "audit_head": GENESIS}])

    # Append-only, enforced by the database too (the hash chain catches what gets past this).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION spamgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION spamgate_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION spamgate_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS spamgate_audit_append_only()")
    for table in (
        "registry_state",
        "audit_log",
        "api_tokens",
        "blocklist",
        "theft_protection",
        "sender_numbers",
        "accounts",
        "certification_events",
        "certifications",
        "operators",
    ):
        op.drop_table(table)
