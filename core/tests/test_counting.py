"""Trigger-kept counters and post counts stay exact on every write path."""

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from core.models import Counter
from posts.models import Post
from posts.tests.factories import PostFactory
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_counts_are_true():
    assert Counter.value_of(Counter.USERS) == User.objects.filter(pk__gt=0).count()
    assert Counter.value_of(Counter.POSTS) == Post.objects.filter(pk__gt=0).count()
    with_posts = User.objects.filter(posts__isnull=False).distinct().count()
    assert Counter.value_of(Counter.USERS_WITH_POSTS) == with_posts
    for user in User.objects.all():
        assert user.post_count == user.posts.count(), user


def test_orm_writes_keep_every_count(django_assert_num_queries):
    author, other = UserFactory(), UserFactory()
    PostFactory.create_batch(3, user=author)
    assert_counts_are_true()
    Post.objects.filter(user=author).first().delete()
    assert_counts_are_true()
    Post.objects.filter(user=author).update(user=other)  # bulk move: no signals
    assert_counts_are_true()
    author.delete()
    other.delete()  # database cascade takes the posts
    assert_counts_are_true()
    assert Counter.value_of(Counter.POSTS) == 0


def test_copy_and_raw_sql_keep_every_count():
    call_command("seed_demo_data", users=40, posts_per_user=3)
    assert_counts_are_true()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM posts_post WHERE id IN (SELECT id FROM posts_post LIMIT 7)")
    assert_counts_are_true()


def truncate(statement):
    """Run a TRUNCATE inside the test's transaction."""
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: their checks of this test's inserts are
        # still pending, and PostgreSQL refuses to truncate a table with pending events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement)


def test_truncating_posts_zeroes_every_post_count():
    author, other = UserFactory(), UserFactory()
    PostFactory.create_batch(3, user=author)
    PostFactory(user=other)
    truncate("TRUNCATE posts_post")
    assert_counts_are_true()
    assert Counter.value_of(Counter.POSTS) == Counter.value_of(Counter.USERS_WITH_POSTS) == 0
    assert Counter.value_of(Counter.USERS) == 2
    PostFactory(user=other)  # the triggers count on from the truth
    assert_counts_are_true()


def test_truncating_users_cascades_and_zeroes_every_count():
    PostFactory.create_batch(2)
    truncate("TRUNCATE users_user CASCADE")
    assert_counts_are_true()
    assert [Counter.value_of(name) for name in (Counter.USERS, Counter.POSTS)] == [0, 0]
    PostFactory()
    assert_counts_are_true()


def test_truncate_recreates_missing_counter_rows():
    PostFactory.create_batch(2)
    Counter.objects.filter(name=Counter.USERS_WITH_POSTS).delete()
    truncate("TRUNCATE posts_post")
    assert Counter.value_of(Counter.USERS_WITH_POSTS) == 0
    assert_counts_are_true()


def test_a_flush_leaves_exact_counters():
    """What transactional tests run between tests: every table, counters included, at once."""
    PostFactory.create_batch(2)
    tables = connection.introspection.django_table_names(only_existing=True)
    truncate("; ".join(connection.ops.sql_flush(no_style(), tables)))
    assert {c.name: c.value for c in Counter.objects.all()} == {
        Counter.USERS: 0,
        Counter.POSTS: 0,
        Counter.USERS_WITH_POSTS: 0,
    }
    PostFactory()
    assert_counts_are_true()


def test_unfiltered_counts_read_the_counter(django_assert_num_queries):
    UserFactory.create_batch(3)
    Counter.objects.filter(name=Counter.USERS).update(value=42)  # prove where it reads
    assert User.objects.count() == 42
    assert User.objects.filter(name__startswith="Member").count() == 3
    assert User.objects.all()[:2].count() == 2
    assert User.objects.order_by("-id").count() == 42


def test_a_missing_counter_falls_back_to_counting():
    UserFactory.create_batch(2)
    Counter.objects.filter(name=Counter.USERS).delete()
    assert User.objects.count() == 2


def test_deep_pages_return_the_same_rows_as_offset():
    call_command("seed_demo_data", users=2_000, posts_per_user=0)
    ids = list(User.objects.order_by("id").values_list("id", flat=True))
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(User.objects.get(pk=ids[0]))
    body = client.get("/users?skip=1037&limit=10").json()
    assert [u["id"] for u in body["results"]] == ids[1037:1047]
    assert body["count"] == 2_000
    stats = client.get("/users/search?name=a&skip=1000&limit=5").json()
    expected = list(
        User.objects.filter(name__icontains="a").order_by("id").values_list("id", flat=True)
    )[1000:1005]
    assert len(expected) == 5
    assert [u["id"] for u in stats["results"]] == expected


def test_pages_can_be_served_without_the_cache(member_client, settings):
    settings.CACHE_PAGES = False
    member_client.get("/users")
    response = member_client.get("/users")
    assert response.status_code == 200
    assert "X-Cache" not in response
