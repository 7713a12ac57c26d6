"""task indexes for pages: by assignee and column, by creator and column, by column and deadline or closing

The single-column indexes on assignee_id and creator_id are prefixes of the new
ones, so they go.

Revision ID: 0010_task_indexes
Revises: 0009_step_drafts
Create Date: 2026-11-30 07:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0010_task_indexes'
down_revision: Union[str, None] = '0009_step_drafts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = {
    'ix_task_assignee_column': ['assignee_id', 'column', 'closed_at'],
    'ix_task_creator_column': ['creator_id', 'column', 'closed_at', 'assignee_id'],
    'ix_task_column_due': ['column', 'due_at'],
    'ix_task_column_closed': ['column', 'closed_at'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, 'task', columns, unique=False)
    op.drop_index('ix_task_assignee_id', table_name='task')
    op.drop_index('ix_task_creator_id', table_name='task')


def downgrade() -> None:
    op.create_index('ix_task_creator_id', 'task', ['creator_id'], unique=False)
    op.create_index('ix_task_assignee_id', 'task', ['assignee_id'], unique=False)
    for name in reversed(INDEXES):
        op.drop_index(name, table_name='task')
