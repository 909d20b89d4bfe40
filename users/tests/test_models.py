"""The user model and its manager, against the real database."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from users.models import User
from users.tests.factories import UserFactory

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


def test_manager_stores_the_email_normalised():
    # The rule itself is table-tested in test_managers.py.
    user = User.objects.create_user(email="Ann@EXAMPLE.com", name="A")
    assert user.email == "ann@example.com"
    with pytest.raises(ValidationError):
        User.objects.create_user(email="ann@exаmple.com", name="Lookalike")


# 238 characters; its punycode form is 256, over the column's 254.
LONG_IDN = "x" * 60 + "@" + ".".join(["é" * 57] * 3) + ".com"


def test_the_migration_stores_emails_of_the_old_rule_normalised():
    migration = importlib.import_module("users.migrations.0008_store_emails_normalised")
    stored_then_now = {
        "Ann@example.com": "ann@example.com",
        "bob@Bücher.de": "bob@xn--bcher-kva.de",
        "carol@example.com": "carol@example.com",
        # Refused by the rule: left for staff to correct.
        "dan@exаmple.com": "dan@exаmple.com",
        "alıce@example.com": "alıce@example.com",
        # Normalises to an address another row holds: left as well.
        "eve@bücher.de": "eve@bücher.de",
        "eve@xn--bcher-kva.de": "eve@xn--bcher-kva.de",
        # Valid under the old rule, too long for the column once in punycode: left too.
        LONG_IDN: LONG_IDN,
    }
    users = {}
    for stored in stored_then_now:
        users[stored] = UserFactory()
        User.objects.filter(pk=users[stored].pk).update(email=stored)  # around the manager
    migration.store_emails_normalised(django_apps, schema_editor=None)
    for stored, now in stored_then_now.items():
        assert User.objects.get(pk=users[stored].pk).email == now


def test_create_superuser_sets_the_flags():
    admin = User.objects.create_superuser(email="root@x.io", name="Root", password="pw-123456")
    assert admin.is_staff
    assert admin.is_superuser
