"""Alembic environment and revisions (shipped inside the package so installed copies migrate)."""
