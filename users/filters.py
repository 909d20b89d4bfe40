"""Query-string filters for user lists (`?name=` and `?created_after=`)."""

import datetime as dt

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime

from .models import User


class DateOrDateTimeField(forms.Field):
    """A date (start of that day, UTC) or an ISO 8601 datetime with any offset, as UTC.

    Naive datetimes are read as UTC. A value Python or PostgreSQL cannot represent once
    normalised (for example year 1 with a positive offset) is a validation error, never
    an OverflowError or a database error.
    """

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 datetime, e.g. "
        "2025-01-01T00:00:00+02:00.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = value.strip()
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                day = parse_date(value)
                if day is None:
                    raise ValueError(value)
                parsed = dt.datetime.combine(day, dt.time.min)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DateOrDateTimeFilter(django_filters.Filter):
    """A filter whose value is a `DateOrDateTimeField`."""

    field_class = DateOrDateTimeField


class UserFilterSet(django_filters.FilterSet):
    """`name`: case-insensitive substring; `created_after`: inclusive lower bound."""

    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=150)
    created_after = DateOrDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = User
        fields = ["name", "created_after"]
