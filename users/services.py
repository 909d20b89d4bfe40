"""Writes to users, each atomic, with the database's constraints as the final word."""

from core.counting import lock_counters
from core.db import UNIQUE_VIOLATION, write_atomically

from .models import User

_EMAIL_TAKEN = {UNIQUE_VIOLATION: {"email": ["A user with this email already exists."]}}


def user_create(*, email, name, password=None, **extra_fields) -> User:
    """Create a user; a duplicate email (any letter case) is a 400 on `email`."""
    return write_atomically(
        lambda: User.objects.create_user(email=email, name=name, password=password, **extra_fields),
        _EMAIL_TAKEN,
        one_statement=True,  # one INSERT; the counters' trigger runs inside it
    )


def user_update(user: User, **changes) -> User:
    """Apply validated changes to a user; a duplicate email is a 400 on `email`."""
    for field, value in changes.items():
        setattr(user, field, value)
    write_atomically(lambda: user.save(update_fields=list(changes) or None), _EMAIL_TAKEN)
    return user


def user_delete(user: User) -> None:
    """Delete a user and, in the same statement, their posts (a database cascade)."""

    def delete():
        # Counters before the user's row, as a concurrent post insert takes them (its
        # trigger locks the counters, then updates the author): no lock cycle.
        lock_counters()
        user.delete()

    write_atomically(delete)
