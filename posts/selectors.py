"""Named read queries over posts, testable without HTTP."""

from django.db.models import F

from core.models import Counter
from users.models import User

from .models import Post


def post_list():
    """Posts in the order every list shows them: by id, ascending."""
    return Post.objects.order_by("id")


def post_counts_by_user():
    """Rows of (user_id, post_count) for users with posts, most prolific first.

    Reads the post_count that triggers keep on each user (in the transaction of every
    post write) through a partial index, instead of grouping the posts table; ties go
    by user_id ascending. Filter it by `id` for one user's row.
    """
    return (
        User.objects.filter(post_count__gt=0)
        .counted_as(Counter.USERS_WITH_POSTS)
        .order_by("-post_count", "id")
        .values("post_count", user_id=F("id"))
    )
