"""Query-string filters for post lists and the posts-per-user ranking (`?user_id=`)."""

import django_filters
from drf_spectacular.utils import extend_schema_field

from core.filtering import INT64_MAX, StrictIntegerField
from users.models import User

from .models import Post


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": INT64_MAX})
class IdFilter(django_filters.Filter):
    """A positive 64-bit id in plain digits; anything else (`1.0`, `+1`, 2**63) is a 400."""

    field_class = StrictIntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


class PostFilterSet(django_filters.FilterSet):
    """`user_id`: only that user's posts (or ranking row)."""

    user_id = IdFilter(field_name="user_id")

    class Meta:
        model = Post
        fields = ["user_id"]


class PostCountFilterSet(django_filters.FilterSet):
    """`user_id`: only that user's row of the posts-per-user ranking."""

    user_id = IdFilter(field_name="id")

    class Meta:
        model = User
        fields = ["user_id"]
