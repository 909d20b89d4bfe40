"""Writes to posts, each atomic, with the foreign key as the final word on `user_id`."""

from core.counting import lock_counters
from core.db import CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, write_atomically
from users.models import User

from .models import CONTENT_MAX_LENGTH, Post

# The user passed validation but was deleted before the insert: the FK says no.
_USER_GONE = {FOREIGN_KEY_VIOLATION: {"user_id": ["This user does not exist."]}}
# Content's only CHECK: an edit of a post stored before the limit (its content is not
# in the request, yet PostgreSQL checks the whole new row).
_CONTENT_TOO_LONG = {
    CHECK_VIOLATION: {
        "content": [f"Ensure this field has no more than {CONTENT_MAX_LENGTH} characters."]
    }
}


def post_create(*, user, title, content) -> Post:
    """Create a post for `user`; a user deleted meanwhile is a 400 on `user_id`."""
    return write_atomically(
        lambda: Post.objects.create(user=user, title=title, content=content),
        _USER_GONE,
        one_statement=True,  # one INSERT; the triggers and the foreign key check run inside it
    )


def post_update(post: Post, **changes) -> Post:
    """Apply validated changes to a post."""
    for field, value in changes.items():
        setattr(post, field, value)
    write_atomically(
        lambda: post.save(update_fields=[f for f in changes if f != "user"] or None),
        {**_USER_GONE, **_CONTENT_TOO_LONG},
    )
    return post


def post_delete(post: Post) -> None:
    """Delete a post (its author's post_count follows, by trigger)."""

    def delete():
        # Every writer takes the rows in one order: the counters (which the triggers
        # take first), the author, then the post, as a delete of the author and its
        # cascade do (users.services.user_delete). So they wait instead of deadlocking.
        lock_counters()
        list(User.objects.select_for_update(no_key=True).filter(pk=post.user_id).values("pk"))
        post.delete()

    write_atomically(delete)
