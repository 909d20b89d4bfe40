"""Turning the database's integrity verdicts into field-keyed 400s."""

from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from rest_framework.exceptions import ValidationError

UNIQUE_VIOLATION = "unique"
FOREIGN_KEY_VIOLATION = "foreign_key"

# PostgreSQL SQLSTATEs; SQLite only says it in the message.
_SQLSTATES = {"23505": UNIQUE_VIOLATION, "23503": FOREIGN_KEY_VIOLATION}
_SQLITE_MESSAGES = {
    "UNIQUE constraint failed": UNIQUE_VIOLATION,
    "FOREIGN KEY": FOREIGN_KEY_VIOLATION,
}


def violation_kind(exc: IntegrityError) -> str | None:
    """Which kind of constraint an IntegrityError reports, or None when it is another."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate:
        return _SQLSTATES.get(sqlstate)
    return next((kind for text, kind in _SQLITE_MESSAGES.items() if text in str(exc)), None)


@contextmanager
def atomic_with_constraints_as_400(errors_by_violation: dict[str, dict[str, list[str]]]):
    """Run a write atomically; a constraint it breaks becomes a 400 and nothing is kept.

    The database decides (racing requests cannot both pass a Python pre-check), and the
    block is rolled back before the 400 leaves. Django creates PostgreSQL foreign keys
    DEFERRABLE INITIALLY DEFERRED, which would let a missing parent surface at COMMIT,
    after the view returned; checking them immediately keeps the verdict inside the block.
    """
    try:
        with transaction.atomic():
            if FOREIGN_KEY_VIOLATION in errors_by_violation and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            yield
    except IntegrityError as exc:
        detail = errors_by_violation.get(violation_kind(exc))
        if detail is None:
            raise
        raise ValidationError(detail) from None
