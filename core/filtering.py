"""Query-string parsing shared by the apps' viewsets: strict integers, list-only filters,
no parameter the action does not read."""

import re

from django import forms
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

# PostgreSQL's bigint: ids, OFFSET and LIMIT are all 64-bit.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# ASCII digits only: Python's int() also takes "+1", " 1", "1_0" and "１" (full-width),
# and Django's IntegerField "1.0". 20 digits reach past 64 bits, so 2**64 is "too
# large" rather than "not a number", and a 5,000-digit string is never converted.
_UNSIGNED = re.compile(r"[0-9]{1,20}")
_SIGNED = re.compile(r"-?[0-9]{1,20}")


class StrictIntegerField(forms.IntegerField):
    """An integer written as plain digits (a leading `-` only if negatives are allowed),
    within 64-bit bounds unless narrower ones are given; empty means absent."""

    default_error_messages = {"invalid": "Enter a whole number in plain digits (0-9)."}

    def __init__(self, *, min_value=INT64_MIN, max_value=INT64_MAX, **kwargs):
        super().__init__(
            min_value=max(min_value, INT64_MIN), max_value=min(max_value, INT64_MAX), **kwargs
        )
        self.pattern = _SIGNED if self.min_value < 0 else _UNSIGNED

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


def integer_query_param(params, name: str, default: int, field: StrictIntegerField):
    """The integer query parameter `name` read with `field`, or `default` when absent.

    Present but unusable, empty included (`?skip=`), is a 400 keyed on the parameter.
    """
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = field.clean(raw)
        if value is None:
            raise forms.ValidationError(field.error_messages["invalid"], code="invalid")
    except forms.ValidationError as error:
        raise ValidationError({name: error.messages}) from None
    return value


class ListFiltersOnlyMixin:
    """Apply the query-string filters to lists only.

    DRF runs filter backends for single objects too; here filters narrow lists and
    grant or deny nothing, so building a FilterSet for `/users/{id}` is pure cost.
    """

    list_actions = ("list", "search", "stats")

    def filter_queryset(self, queryset):
        if self.action not in self.list_actions:
            return queryset
        return super().filter_queryset(queryset)


UNKNOWN_PARAM = "Unknown query parameter."
REPEATED_PARAM = "Query parameter given more than once."


class KnownQueryParamsMixin(ListFiltersOnlyMixin):
    """On GET, a 400 for a query parameter the action does not read, or one given twice.

    Every distinct query string is a page of its own in the cache (core.pages), so an
    ignored `?x=1`, `?x=2`, … or a repeated `?user_id=1&user_id=1` would let any client
    grow the cache without bound; the 400 also tells a client of its typo. An action
    reads its filterset's filters and its paginator's parameters (lists only, see
    ListFiltersOnlyMixin) and DRF's `?format=` (the browsable API's `format=api`).
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            refuse_unread_query_params(request.query_params, self.known_query_params())

    def known_query_params(self) -> set[str]:
        """The names this request's action reads from the query string."""
        known = {api_settings.URL_FORMAT_OVERRIDE} - {None}
        if self.action in self.list_actions:
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                known.update(filterset_class.base_filters)
            if self.paginator is not None:
                known.update(self.paginator.query_params)
        return known


def refuse_unread_query_params(params, known) -> None:
    """A 400 keyed on each parameter not in `known` or given more than once."""
    errors = {}
    for name, values in params.lists():
        if name not in known:
            errors[name] = [UNKNOWN_PARAM]
        elif len(values) > 1:
            errors[name] = [REPEATED_PARAM]
    if errors:
        raise ValidationError(errors)
