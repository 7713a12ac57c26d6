"""step drafts: a work step's fields asked one by one in chat

Revision ID: 0009_step_drafts
Revises: 0008_webhooks
Create Date: 2026-11-28 06:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009_step_drafts'
down_revision: Union[str, None] = '0008_webhooks'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('formdraft', sa.Column('step_id', sa.Integer(), nullable=True))
    op.add_column('formdraft', sa.Column('asks', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('formdraft') as batch:
        batch.drop_column('asks')
        batch.drop_column('step_id')
