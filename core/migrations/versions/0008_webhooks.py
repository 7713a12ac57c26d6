"""outgoing webhooks

Revision ID: 0008_webhooks
Revises: 0007_drafts
Create Date: 2026-11-30 07:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008_webhooks'
down_revision: Union[str, None] = '0007_drafts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('webhook',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret_env', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('timeout', sa.Float(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('claim', sa.Integer(), nullable=False),
    sa.Column('next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('gap_at', sa.Integer(), nullable=True),
    sa.Column('gap_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('failing_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('webhookfailure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hook', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['taskevent.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_webhookfailure_hook'), 'webhookfailure', ['hook'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webhookfailure_hook'), table_name='webhookfailure')
    op.drop_table('webhookfailure')
    op.drop_table('webhook')
