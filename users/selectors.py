"""Named read queries over users, testable without HTTP."""

import datetime as dt

from django.db.models import Count, Func, IntegerField, Q, Subquery
from django.utils import timezone

from core.models import Counter

from .models import User


def user_list():
    """Users in the order every list shows them: by id, ascending."""
    return User.objects.order_by("id")


def user_stats() -> dict[str, int]:
    """Total users and users created in the last 7 days, in one query.

    The total comes from the trigger-kept counter and the recent ones from the
    created_at index, so neither scans the whole table.
    """
    week_ago = timezone.now() - dt.timedelta(days=7)
    recent = (
        User.objects.filter(created_at__gte=week_ago)
        .order_by()
        # COUNT(*), not COUNT(id): the created_at index alone can answer it.
        .annotate(n=Func(template="COUNT(*)", output_field=IntegerField()))
        .values("n")
    )
    row = (
        Counter.objects.filter(name=Counter.USERS)
        .annotate(users_last_7_days=Subquery(recent))
        .values("value", "users_last_7_days")
        .first()
    )
    if row is None:  # the counter row was deleted: count the slow way, still exactly
        return User.objects.aggregate(
            total_users=Count("id"),
            users_last_7_days=Count("id", filter=Q(created_at__gte=week_ago)),
        )
    return {"total_users": row["value"], "users_last_7_days": row["users_last_7_days"]}
