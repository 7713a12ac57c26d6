"""forms and approval routes

Revision ID: 0006_forms
Revises: 0005_settings
Create Date: 2026-11-28 04:47:07.058976
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006_forms'
down_revision: Union[str, None] = '0005_settings'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('formversion',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('form_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('formversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_formversion_form_id'), ['form_id'], unique=False)

    op.create_table('formrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('current_step_id', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['formversion.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', name='uq_formrequest_task_id')
    )
    with op.batch_alter_table('formrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_formrequest_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_formrequest_form_id'), ['form_id'], unique=False)

    op.create_table('requeststep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('step_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('next_ping_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['formrequest.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('requeststep', schema=None) as batch_op:
        batch_op.create_index('ix_requeststep_due', ['state', 'next_ping_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_requeststep_request_id'), ['request_id'], unique=False)

    op.create_table('stepassignee',
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('on_behalf_of', sa.Integer(), nullable=True),
    sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['on_behalf_of'], ['person.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['requeststep.id'], ),
    sa.PrimaryKeyConstraint('step_id', 'person_id')
    )
    with op.batch_alter_table('stepassignee', schema=None) as batch_op:
        batch_op.create_index('ix_stepassignee_person_state', ['person_id', 'state'], unique=False)

    op.create_table('stepdecision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['requeststep.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('step_id', 'person_id', name='uq_stepdecision_step_person')
    )
    with op.batch_alter_table('stepdecision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stepdecision_step_id'), ['step_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stepdecision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stepdecision_step_id'))

    op.drop_table('stepdecision')
    with op.batch_alter_table('stepassignee', schema=None) as batch_op:
        batch_op.drop_index('ix_stepassignee_person_state')

    op.drop_table('stepassignee')
    with op.batch_alter_table('requeststep', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requeststep_request_id'))
        batch_op.drop_index('ix_requeststep_due')

    op.drop_table('requeststep')
    with op.batch_alter_table('formrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_formrequest_form_id'))
        batch_op.drop_index(batch_op.f('ix_formrequest_author_id'))

    op.drop_table('formrequest')
    with op.batch_alter_table('formversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_formversion_form_id'))

    op.drop_table('formversion')
