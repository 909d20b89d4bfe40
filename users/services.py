"""Writes to users, each atomic, with the database's constraints as the final word."""

from config.db import UNIQUE_VIOLATION, atomic_with_constraints_as_400

from .models import User

_EMAIL_TAKEN = {UNIQUE_VIOLATION: {"email": ["A user with this email already exists."]}}


def user_create(*, email, name, password=None, **extra_fields) -> User:
    """Create a user; a duplicate email (any letter case) is a 400 on `email`."""
    with atomic_with_constraints_as_400(_EMAIL_TAKEN):
        return User.objects.create_user(email=email, name=name, password=password, **extra_fields)


def user_update(user: User, **changes) -> User:
    """Apply validated changes to a user; a duplicate email is a 400 on `email`."""
    for field, value in changes.items():
        setattr(user, field, value)
    with atomic_with_constraints_as_400(_EMAIL_TAKEN):
        user.save(update_fields=list(changes) or None)
    return user
