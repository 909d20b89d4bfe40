"""The user model and its manager, against the real database."""

import pytest
from django.db import IntegrityError

from users.models import User

pytestmark = pytest.mark.django_db


def test_email_is_unique_in_any_letter_case_in_the_database():
    User.objects.create_user(email="ann@example.com", name="Ann")
    # Straight through the ORM: no validator is involved, only the constraint.
    with pytest.raises(IntegrityError):
        User.objects.create(email="ANN@example.com", name="Other")


def test_a_user_created_without_a_password_cannot_sign_in():
    user = User.objects.create_user(email="a@x.io", name="A")
    assert not user.has_usable_password()
    assert not user.check_password("")


def test_created_at_is_timezone_aware_and_set_on_insert():
    user = User.objects.create_user(email="a@x.io", name="A", password="s3cret-pass!")
    assert user.created_at.tzinfo is not None
    assert user.check_password("s3cret-pass!")


def test_manager_normalises_the_email_domain():
    user = User.objects.create_user(email="Ann@EXAMPLE.com", name="A")
    assert user.email == "Ann@example.com"


def test_create_superuser_sets_the_flags():
    admin = User.objects.create_superuser(email="root@x.io", name="Root", password="pw-123456")
    assert admin.is_staff
    assert admin.is_superuser
