"""The post model: text written by a user."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from core.counting import CountedQuerySet
from core.models import Counter

# Characters, not bytes (PostgreSQL's LENGTH() and Python's len() agree). A post is
# served inside cached pages of up to 100: without a bound, a few huge posts make every
# page that holds them huge, in Redis and on the wire.
CONTENT_MAX_LENGTH = 20_000
CONTENT_MAX_LENGTH_CHECK = "posts_post_content_max_length"


class PostManager(models.Manager.from_queryset(CountedQuerySet)):
    """Posts, counted from the trigger-kept counter while unfiltered."""

    def get_queryset(self):
        return super().get_queryset().counted_as(Counter.POSTS)


class Post(models.Model):
    """A post belongs to one user and goes when that user is deleted."""

    # DB_CASCADE: PostgreSQL deletes a user's posts in the same statement as the user,
    # so a post inserted while its user is being deleted can never be left orphaned,
    # and deleting a user with many posts does not load them into Python. It sends no
    # post_delete signals: the user's delete receiver invalidates post caches instead.
    # No single-column index: the (user, id) index below serves every user_id lookup.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name="posts",
        db_index=False,
    )
    title = models.CharField(max_length=200)
    # max_length on a TextField reaches the API serializer and the admin form; the CHECK
    # constraint below is what the database enforces for every other writer.
    content = models.TextField(max_length=CONTENT_MAX_LENGTH)
    # Set on insert (not auto_now_add, which would also overwrite the historic dates
    # that seed_demo_data writes); never editable through forms or the API.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    objects = PostManager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # Listing a user's posts by id, and counting them, walk this index alone.
            models.Index(fields=["user", "id"], name="posts_user_id_id_idx"),
        ]
        constraints = [
            # Added NOT VALID on PostgreSQL (posts/migrations/0005): posts stored before
            # the limit stay as they are, every insert and update is checked.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("content"), CONTENT_MAX_LENGTH),
                name=CONTENT_MAX_LENGTH_CHECK,
                violation_error_message=(
                    f"Ensure this field has no more than {CONTENT_MAX_LENGTH} characters."
                ),
            ),
        ]

    def __str__(self):
        return self.title
