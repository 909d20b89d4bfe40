"""Developer commands of the users app."""

import pytest
from django.core.management import call_command

from users.models import User


@pytest.mark.django_db
def test_createsuperuser_noinput_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "The Boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-secret-9")
    call_command("createsuperuser", "--noinput")
    boss = User.objects.get(email="boss@example.com")
    assert boss.name == "The Boss"
    assert boss.is_staff
    assert boss.is_superuser
    assert boss.check_password("a-long-secret-9")
