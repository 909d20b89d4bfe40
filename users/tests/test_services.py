"""User writes: the database constraint decides, also when requests race."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from users import services
from users.models import User


@pytest.mark.django_db
def test_duplicate_email_past_the_validator_is_a_400_from_the_constraint():
    services.user_create(email="race@x.io", name="A")
    # Calling the service directly skips the serializer's friendly pre-check.
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(email="RACE@x.io", name="B")
    assert excinfo.value.detail == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_update_to_a_taken_email_is_a_400_and_changes_nothing():
    services.user_create(email="taken@x.io", name="A")
    other = services.user_create(email="free@x.io", name="B")
    with pytest.raises(ValidationError):
        services.user_update(other, email="Taken@x.io")
    other.refresh_from_db()
    assert other.email == "free@x.io"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_create_is_its_one_insert_and_a_duplicate_a_400():
    with CaptureQueriesContext(connection) as sent:
        services.user_create(email="alone@x.io", name="A")
    assert [query["sql"].split()[0] for query in sent.captured_queries] == ["INSERT"]
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(email="ALONE@x.io", name="B")
    assert excinfo.value.detail == {"email": ["A user with this email already exists."]}
    assert list(User.objects.values_list("name", flat=True)) == ["A"]


@pytest.mark.django_db(transaction=True)
def test_racing_creates_of_one_email_yield_one_201_and_only_400s(staff):
    racers = 8
    barrier = threading.Barrier(racers)
    statuses = []

    def create(i):
        try:
            barrier.wait()
            client = APIClient()
            client.force_authenticate(staff)
            response = client.post(
                "/users",
                {"name": f"R{i}", "email": "SAME@race.io" if i % 2 else "same@race.io"},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [400] * (racers - 1)
    assert User.objects.filter(email__iexact="same@race.io").count() == 1
