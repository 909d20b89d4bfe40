"""Trigger-kept counters and post counts stay exact on every write path."""

import functools
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

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


def sqlstate_of(exc: Exception) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def wait_until_blocked(pid: int, timeout: float = 10.0) -> None:
    """Return once backend `pid` waits for a lock another transaction holds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() == ("Lock",):
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


@pytest.mark.django_db(transaction=True)
def test_moving_a_post_takes_the_counters_before_any_user_row():
    """The interleaving that deadlocked, forced step by step with two connections.

    An insert holds the counters (its transaction goes on); a post moves from an author
    it leaves without posts, which writes 'users_with_posts'; then the insert's
    transaction adds a post for that author. The move must wait for the counters
    before it locks a users row, or each waits for the other (SQLSTATE 40P01).
    """
    leaving, staying, bystander = UserFactory(), UserFactory(), UserFactory()
    moved = PostFactory(user=leaving)
    PostFactory(user=staying)
    holding, go = threading.Event(), threading.Event()
    mover_pid = []
    errors = []

    def insert_twice():
        try:
            with transaction.atomic():
                Post.objects.create(user=bystander, title="T", content="C")
                holding.set()
                go.wait(timeout=15)
                Post.objects.create(user=leaving, title="T", content="C")
        except Exception as exc:
            errors.append(sqlstate_of(exc) or repr(exc))
        finally:
            holding.set()
            connection.close()

    def move():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                mover_pid.append(cursor.fetchone()[0])
            Post.objects.filter(pk=moved.pk).update(user_id=staying.pk)
        except Exception as exc:
            errors.append(sqlstate_of(exc) or repr(exc))
        finally:
            connection.close()

    inserter = threading.Thread(target=insert_twice)
    inserter.start()
    holding.wait(timeout=15)
    mover = threading.Thread(target=move)
    mover.start()
    try:
        while not mover_pid:
            time.sleep(0.01)
        wait_until_blocked(mover_pid[0])
    finally:
        go.set()
        inserter.join()
        mover.join()

    assert errors == []
    assert Post.objects.get(pk=moved.pk).user_id == staying.pk
    assert_counts_are_true()


@pytest.mark.django_db(transaction=True)
def test_post_moves_racing_post_inserts_neither_deadlock_nor_drift():
    """Threads move posts between two authors while others add and remove their posts.

    Few posts per author, so moves keep taking an author to or from zero posts, which
    writes 'users_with_posts': the move that deadlocked before lock_counters() came first.
    """
    authors = [UserFactory().pk, UserFactory().pk]
    moved = [post.pk for post in PostFactory.create_batch(2, user_id=authors[0])]
    rounds = 60
    errors = []
    lock = threading.Lock()

    def run(step):
        try:
            for i in range(rounds):
                step(i)
        except Exception as exc:
            with lock:
                errors.append(sqlstate_of(exc) or repr(exc))
        finally:
            connection.close()

    def move(i, pk):
        Post.objects.filter(pk=pk).update(user_id=authors[(i + 1) % 2])

    def insert_and_delete(i, first):
        post = Post.objects.create(user_id=authors[(i + first) % 2], title="T", content="C")
        Post.objects.filter(pk=post.pk).delete()

    steps = [functools.partial(move, pk=pk) for pk in moved]
    steps += [functools.partial(insert_and_delete, first=first) for first in (0, 1)]
    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(Post.objects.values_list("user_id", flat=True)) == [authors[rounds % 2]] * 2
    assert_counts_are_true()
