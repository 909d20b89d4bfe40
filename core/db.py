"""Turning the database's integrity verdicts into field-keyed 400s."""

import logging
from contextlib import contextmanager

from django.db import IntegrityError, OperationalError, connection, transaction
from rest_framework.exceptions import ValidationError

logger = logging.getLogger("core.db")

UNIQUE_VIOLATION = "unique"
FOREIGN_KEY_VIOLATION = "foreign_key"
CHECK_VIOLATION = "check"

# PostgreSQL SQLSTATEs; SQLite only says it in the message.
_SQLSTATES = {"23505": UNIQUE_VIOLATION, "23503": FOREIGN_KEY_VIOLATION, "23514": CHECK_VIOLATION}
_SQLITE_MESSAGES = {
    "UNIQUE constraint failed": UNIQUE_VIOLATION,
    "FOREIGN KEY": FOREIGN_KEY_VIOLATION,
    "CHECK constraint failed": CHECK_VIOLATION,
}


def violation_kind(exc: IntegrityError) -> str | None:
    """Which kind of constraint an IntegrityError reports, or None when it is another."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate:
        return _SQLSTATES.get(sqlstate)
    return next((kind for text, kind in _SQLITE_MESSAGES.items() if text in str(exc)), None)


@contextmanager
def atomic_with_constraints_as_400(
    errors_by_violation: dict[str, dict[str, list[str]]], *, one_statement: bool = False
):
    """Run a write atomically; a constraint it breaks becomes a 400 and nothing is kept.

    The database decides (racing requests cannot both pass a Python pre-check), and the
    block is rolled back before the 400 leaves. Django creates PostgreSQL foreign keys
    DEFERRABLE INITIALLY DEFERRED, which would let a missing parent surface at COMMIT,
    after the view returned; checking them immediately keeps the verdict inside the block.

    `one_statement=True` promises that the block runs a single SQL statement. Outside a
    transaction the database runs one statement atomically by itself, its triggers and
    deferred checks included, so it is sent alone, without the BEGIN and COMMIT round
    trips. Inside a transaction it gets a savepoint like any other block.
    """
    try:
        if one_statement and connection.get_autocommit():
            yield
            return
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


# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction back and
# running it again is the documented remedy.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}
WRITE_ATTEMPTS = 3


def write_atomically(operation, errors_by_violation=None, *, one_statement=False):
    """Run `operation()` as one atomic write; constraint breaks become 400s.

    A transaction PostgreSQL aborted to break a deadlock (or a serialization failure)
    is run again, up to WRITE_ATTEMPTS times, so concurrent writers see a slower answer
    instead of an error. Nothing of a failed attempt is kept. For `one_statement`, see
    `atomic_with_constraints_as_400`.
    """
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with atomic_with_constraints_as_400(
                errors_by_violation or {}, one_statement=one_statement
            ):
                return operation()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == WRITE_ATTEMPTS:
                raise
            logger.warning("write retried after %s (attempt %s)", sqlstate, attempt)
    raise AssertionError("unreachable")  # pragma: no cover
