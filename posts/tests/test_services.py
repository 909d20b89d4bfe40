"""Post writes: the foreign key decides, also when the user is deleted meanwhile."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from posts import services
from posts.models import Post
from users.models import User
from users.tests.factories import UserFactory


@pytest.mark.django_db
def test_a_user_deleted_after_validation_is_a_400_and_nothing_is_kept():
    user = UserFactory()
    User.objects.filter(pk=user.pk).delete()  # `user` still holds the old pk
    with pytest.raises(ValidationError) as excinfo:
        services.post_create(user=user, title="T", content="C")
    assert excinfo.value.detail == {"user_id": ["This user does not exist."]}
    assert Post.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_create_is_its_one_insert_and_a_gone_user_a_400():
    user = UserFactory()
    with CaptureQueriesContext(connection) as sent:
        services.post_create(user=user, title="T", content="C")
    assert [query["sql"].split()[0] for query in sent.captured_queries] == ["INSERT"]
    User.objects.filter(pk=user.pk).delete()
    with pytest.raises(ValidationError) as excinfo:
        services.post_create(user=user, title="T", content="C")
    assert excinfo.value.detail == {"user_id": ["This user does not exist."]}
    assert Post.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_creates_racing_a_user_delete_end_as_201_or_400_and_leave_no_orphans(caplog):
    staff = UserFactory(is_staff=True)
    rounds, creators = 5, 6
    statuses = []
    lock = threading.Lock()

    for _ in range(rounds):
        victim = UserFactory()
        barrier = threading.Barrier(creators + 1)

        def create(victim_id=victim.pk, barrier=barrier):
            try:
                client = APIClient()
                client.force_authenticate(staff)
                barrier.wait()
                response = client.post(
                    "/posts", {"user_id": victim_id, "title": "T", "content": "C"}, format="json"
                )
                with lock:
                    statuses.append(response.status_code)
            finally:
                connection.close()

        def delete(victim_id=victim.pk, barrier=barrier):
            try:
                client = APIClient()
                client.force_authenticate(staff)
                barrier.wait()
                with lock:
                    statuses.append(client.delete(f"/users/{victim_id}").status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=create) for _ in range(creators)]
        threads.append(threading.Thread(target=delete))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert set(statuses) <= {201, 204, 400}
    # Every writer takes the counters before the author's row: nothing even deadlocked.
    assert not [r for r in caplog.records if "write retried" in r.getMessage()]
    assert statuses.count(204) == rounds
    # Every post whose user was deleted went with the user.
    assert not Post.objects.exclude(user__in=User.objects.all()).exists()
    assert Post.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_post_deletes_and_inserts_racing_a_user_delete_neither_deadlock_nor_drift():
    from core.models import Counter
    from posts.tests.factories import PostFactory

    staff = UserFactory(is_staff=True)
    bystander = UserFactory()
    statuses = []
    lock = threading.Lock()

    def call(method, path, body=None):
        try:
            client = APIClient()
            client.force_authenticate(staff)
            response = getattr(client, method)(path, body, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    for _ in range(4):
        victim = UserFactory()
        posts = PostFactory.create_batch(4, user=victim)
        jobs = [("delete", f"/users/{victim.pk}")]
        jobs += [("delete", f"/posts/{post.pk}") for post in posts]
        jobs += [("post", "/posts", {"user_id": bystander.pk, "title": "T", "content": "C"})] * 3
        threads = [threading.Thread(target=call, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert set(statuses) <= {201, 204, 404}, statuses
    assert Counter.value_of(Counter.POSTS) == Post.objects.count()
    assert User.objects.get(pk=bystander.pk).post_count == bystander.posts.count() == 12
