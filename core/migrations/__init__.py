"""Alembic migrations for the store (`teamflow db upgrade`)."""
