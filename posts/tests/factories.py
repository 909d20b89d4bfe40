"""factory_boy factories for posts."""

import factory

from posts.models import Post
from users.tests.factories import UserFactory


class PostFactory(factory.django.DjangoModelFactory):
    """A post by a new member unless `user` is given."""

    class Meta:
        model = Post

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Post {n}")
    content = factory.Faker("paragraph")


def post_from_before_the_content_limit(**kwargs) -> Post:
    """A post stored before the CHECK on content existed, as the migration leaves it."""
    from django.db import connection

    from posts.models import CONTENT_MAX_LENGTH, CONTENT_MAX_LENGTH_CHECK

    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred foreign-key checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE posts_post DROP CONSTRAINT {CONTENT_MAX_LENGTH_CHECK}")
        post = PostFactory(**kwargs)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"ALTER TABLE posts_post ADD CONSTRAINT {CONTENT_MAX_LENGTH_CHECK} "
            f"CHECK (LENGTH(content) <= {CONTENT_MAX_LENGTH}) NOT VALID"
        )
    return post
