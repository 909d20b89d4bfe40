"""Named read queries over users, testable without HTTP."""

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from .models import User


def user_list():
    """Users in the order every list shows them: by id, ascending."""
    return User.objects.order_by("id")


def user_stats() -> dict[str, int]:
    """Total users and users created in the last 7 days, in one aggregate query."""
    week_ago = timezone.now() - dt.timedelta(days=7)
    return User.objects.aggregate(
        total_users=Count("id"),
        users_last_7_days=Count("id", filter=Q(created_at__gte=week_ago)),
    )
