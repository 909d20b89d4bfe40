"""The post model against the real database: the content limit is the database's too."""

import pytest
from django.db import IntegrityError, connection

from posts.models import CONTENT_MAX_LENGTH, CONTENT_MAX_LENGTH_CHECK, Post
from users.tests.factories import UserFactory

from .factories import post_from_before_the_content_limit

pytestmark = pytest.mark.django_db


def test_content_is_limited_in_the_database_by_characters_not_bytes():
    user = UserFactory()
    # Four bytes each in UTF-8: the limit counts characters, as the API does.
    Post.objects.create(user=user, title="T", content="\U0001f44d" * CONTENT_MAX_LENGTH)
    # Straight through the ORM: no validator is involved, only the CHECK constraint.
    with pytest.raises(IntegrityError):
        Post.objects.create(user=user, title="T", content="x" * (CONTENT_MAX_LENGTH + 1))


def test_the_migration_adds_the_check_not_valid_so_older_posts_stay():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = %s",
            [CONTENT_MAX_LENGTH_CHECK],
        )
        assert cursor.fetchone() == (False,)
    post = post_from_before_the_content_limit(content="x" * 30_000)
    assert len(Post.objects.get(pk=post.pk).content) == 30_000
