"""Create the model, generation, rating and comparison tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 03:44:28.702782

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('model',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('domain', sa.String(length=50), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_model'))
    )
    op.create_table('generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_sha256', sa.String(length=64), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('domain', sa.String(length=50), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('output_text', sa.Text(), nullable=False),
    sa.Column('output_data', sa.LargeBinary(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('requester', sa.String(length=64), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('discord', 'notebook', 'cli', 'console')", name=op.f('ck_generation_source')),
    sa.CheckConstraint('latency_ms IS NULL OR latency_ms >= 0', name=op.f('ck_generation_latency')),
    sa.ForeignKeyConstraint(['model_sha256'], ['model.sha256'], name=op.f('fk_generation_model_sha256_model'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generation'))
    )
    with op.batch_alter_table('generation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generation_created'), ['created'], unique=False)
        batch_op.create_index(batch_op.f('ix_generation_domain'), ['domain'], unique=False)
        batch_op.create_index('ix_generation_model_created', ['model_sha256', 'created'], unique=False)
        batch_op.create_index(batch_op.f('ix_generation_model_sha256'), ['model_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_generation_requester'), ['requester'], unique=False)

    op.create_table('comparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_a_id', sa.Integer(), nullable=False),
    sa.Column('generation_b_id', sa.Integer(), nullable=False),
    sa.Column('rater', sa.String(length=64), nullable=False),
    sa.Column('winner', sa.String(length=3), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("winner IN ('a', 'b', 'tie')", name=op.f('ck_comparison_winner')),
    sa.CheckConstraint('generation_a_id <> generation_b_id', name=op.f('ck_comparison_distinct_pair')),
    sa.ForeignKeyConstraint(['generation_a_id'], ['generation.id'], name=op.f('fk_comparison_generation_a_id_generation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['generation_b_id'], ['generation.id'], name=op.f('fk_comparison_generation_b_id_generation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparison')),
    sa.UniqueConstraint('generation_a_id', 'generation_b_id', 'rater', name='uq_comparison_pair_rater')
    )
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comparison_generation_a_id'), ['generation_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparison_generation_b_id'), ['generation_b_id'], unique=False)

    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('rater', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("dimension IN ('overall', 'fluency', 'coherence', 'creativity', 'form')", name=op.f('ck_rating_dimension')),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_rating_score')),
    sa.ForeignKeyConstraint(['generation_id'], ['generation.id'], name=op.f('fk_rating_generation_id_generation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating')),
    sa.UniqueConstraint('generation_id', 'rater', 'dimension', name='uq_rating_generation_rater_dimension')
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_generation_id'), ['generation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rating_rater'), ['rater'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_rater'))
        batch_op.drop_index(batch_op.f('ix_rating_generation_id'))

    op.drop_table('rating')
    with op.batch_alter_table('comparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparison_generation_b_id'))
        batch_op.drop_index(batch_op.f('ix_comparison_generation_a_id'))

    op.drop_table('comparison')
    with op.batch_alter_table('generation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generation_requester'))
        batch_op.drop_index(batch_op.f('ix_generation_model_sha256'))
        batch_op.drop_index('ix_generation_model_created')
        batch_op.drop_index(batch_op.f('ix_generation_domain'))
        batch_op.drop_index(batch_op.f('ix_generation_created'))

    op.drop_table('generation')
    op.drop_table('model')
