"""The one dialect-specific statement the core needs (ledger, journal pools, outbox)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from core.db.base import Base
from core.db.uow import UnitOfWork


def insert_ignoring_duplicates(uow: UnitOfWork, model: type[Base]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING`: concurrent creators of one row both succeed."""
    dialect = uow.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing()
