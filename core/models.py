"""Project-wide tables."""

from django.db import models


class Counter(models.Model):
    """A row count kept exact by database triggers (see posts/migrations/0003 and 0004).

    Lists report an exact `count` without COUNT(*) over a million rows: the triggers
    adjust these rows in the same transaction as the inserts and deletes they count.
    """

    USERS = "users"
    POSTS = "posts"
    USERS_WITH_POSTS = "users_with_posts"

    name = models.CharField(primary_key=True, max_length=50)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value}"

    @classmethod
    def value_of(cls, name: str) -> int:
        return cls.objects.filter(name=name).values_list("value", flat=True).get()
