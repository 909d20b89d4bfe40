"""Developer commands of the core app: recount_counters."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from core.models import Counter
from posts.models import Post
from posts.tests.factories import PostFactory
from users.tests.factories import UserFactory

TRUTHS = {
    Counter.USERS: "SELECT count(*) FROM users_user",
    Counter.POSTS: "SELECT count(*) FROM posts_post",
    Counter.USERS_WITH_POSTS: "SELECT count(DISTINCT user_id) FROM posts_post",
}


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def assert_counts_are_true():
    counters = dict(sql("SELECT name, value FROM project_counter"))
    assert counters == {name: sql(query)[0][0] for name, query in TRUTHS.items()}
    wrong = sql(
        "SELECT u.id FROM users_user u"
        " WHERE u.post_count <> (SELECT count(*) FROM posts_post p WHERE p.user_id = u.id)"
    )
    assert wrong == []


def row_versions():
    """Where each counter and user row's current version lives: an UPDATE moves it."""
    return sql("SELECT name, ctid FROM project_counter ORDER BY name"), sql(
        "SELECT id, ctid FROM users_user ORDER BY id"
    )


def recount_counters() -> str:
    out = io.StringIO()
    call_command("recount_counters", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_recount_counters_repairs_counts_damaged_around_the_triggers():
    ann, bob, cy = UserFactory(), UserFactory(), UserFactory()
    PostFactory.create_batch(3, user=ann)
    PostFactory.create_batch(2, user=bob)
    sql("UPDATE project_counter SET value = 12 WHERE name = 'posts'")
    sql("DELETE FROM project_counter WHERE name = 'users'")
    # users_after_update follows these, so 'users_with_posts' drifts with them.
    sql("UPDATE users_user SET post_count = 0 WHERE id = %s", [bob.pk])
    sql("UPDATE users_user SET post_count = 9 WHERE id = %s", [cy.pk])
    # Rows loaded with the triggers off (as a restore with --disable-triggers does).
    sql("SET LOCAL session_replication_role = replica")
    sql(
        "INSERT INTO posts_post (user_id, title, content, created_at)"
        " VALUES (%s, 'T', 'C', now()), (%s, 'T', 'C', now())",
        [ann.pk, cy.pk],
    )
    sql("SET LOCAL session_replication_role = DEFAULT")

    assert recount_counters() == (
        "Fixed users: missing → 3; posts: 12 → 7; users_with_posts: 2 → 3;"
        " post_count fixed on 3 users."
    )
    assert_counts_are_true()


@pytest.mark.django_db
def test_a_second_recount_changes_nothing_and_says_so():
    PostFactory.create_batch(3)
    sql("UPDATE project_counter SET value = value + 5")
    recount_counters()
    before = row_versions()
    assert recount_counters() == "Every count was already exact; nothing changed."
    assert row_versions() == before
    assert_counts_are_true()


@pytest.mark.django_db
def test_recount_counters_on_exact_counts_changes_nothing():
    PostFactory.create_batch(2)
    before = row_versions()
    assert recount_counters() == "Every count was already exact; nothing changed."
    assert row_versions() == before


@pytest.mark.django_db(transaction=True)
def test_recount_counters_racing_post_inserts_ends_exact():
    """Inserts that wait for the command's lock add their posts on top of its counts."""
    authors = [UserFactory().pk for _ in range(3)]
    PostFactory.create_batch(5, user_id=authors[0])
    sql("UPDATE project_counter SET value = value + 40 WHERE name = 'posts'")
    sql("UPDATE users_user SET post_count = post_count + 7 WHERE id = %s", [authors[1]])
    inserters, inserts_each = 4, 40
    running = threading.Barrier(inserters + 1)
    errors = []

    def insert(first):
        try:
            running.wait()
            for i in range(inserts_each):
                author = authors[(first + i) % len(authors)]
                Post.objects.create(user_id=author, title="T", content="C")
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    def recount():
        try:
            running.wait()
            for _ in range(5):
                recount_counters()
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=(first,)) for first in range(inserters)]
    threads.append(threading.Thread(target=recount))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Post.objects.filter(pk__gt=0).count() == 5 + inserters * inserts_each
    assert_counts_are_true()
