"""Named read queries over posts, testable without HTTP."""

from django.db.models import Count

from .models import Post


def post_list():
    """Posts in the order every list shows them: by id, ascending."""
    return Post.objects.order_by("id")


def post_counts_by_user(posts):
    """Rows of (user_id, post_count) for the users in `posts`, most prolific first.

    One GROUP BY over the given (possibly filtered) posts; ties by user_id ascending.
    """
    return (
        posts.order_by()
        .values("user_id")
        .annotate(post_count=Count("id"))
        .order_by("-post_count", "user_id")
    )
