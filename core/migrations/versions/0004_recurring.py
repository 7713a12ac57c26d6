"""recurring tasks, digests, birthdays

Revision ID: 0004_recurring
Revises: 0003_announcements
Create Date: 2026-11-28 04:12:08.497735
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004_recurring'
down_revision: Union[str, None] = '0003_announcements'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('recurrence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('watcher_ids', sa.JSON(), nullable=False),
    sa.Column('day_of_week', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('next_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_task_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['creator_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['last_task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recurrence', schema=None) as batch_op:
        batch_op.create_index('ix_recurrence_due', ['active', 'next_at'], unique=False)

    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False))
        batch_op.add_column(sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.alter_column('author_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_unique_constraint('uq_announcement_dedupe_key', ['dedupe_key'])

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_digest_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_last_digest_on'), ['last_digest_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_last_digest_on'))
        batch_op.drop_column('last_digest_on')
        batch_op.drop_column('birthday')

    with op.batch_alter_table('announcement', schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint('uq_announcement_dedupe_key', type_='unique')
        batch_op.alter_column('author_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('kind')

    with op.batch_alter_table('recurrence', schema=None) as batch_op:
        batch_op.drop_index('ix_recurrence_due')

    op.drop_table('recurrence')
