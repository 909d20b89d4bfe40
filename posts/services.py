"""Writes to posts, each atomic, with the foreign key as the final word on `user_id`."""

from config.db import FOREIGN_KEY_VIOLATION, atomic_with_constraints_as_400

from .models import Post

# The user passed validation but was deleted before the insert: the FK says no.
_USER_GONE = {FOREIGN_KEY_VIOLATION: {"user_id": ["This user does not exist."]}}


def post_create(*, user, title, content) -> Post:
    """Create a post for `user`; a user deleted meanwhile is a 400 on `user_id`."""
    with atomic_with_constraints_as_400(_USER_GONE):
        return Post.objects.create(user=user, title=title, content=content)


def post_update(post: Post, **changes) -> Post:
    """Apply validated changes to a post."""
    for field, value in changes.items():
        setattr(post, field, value)
    with atomic_with_constraints_as_400(_USER_GONE):
        post.save(update_fields=[f for f in changes if f != "user"] or None)
    return post
