"""The API's one pagination style: `skip`/`limit`, validated strictly."""

from django.db.models import Subquery
from rest_framework.pagination import LimitOffsetPagination

from core.filtering import INT64_MAX, StrictIntegerField, integer_query_param

# PostgreSQL's OFFSET is a bigint; anything past it cannot be a page.
MAX_SKIP = INT64_MAX


class SkipLimitPagination(LimitOffsetPagination):
    """`?skip=&limit=` pages in the `{"count", "next", "previous", "results"}` envelope.

    DRF's `LimitOffsetPagination` silently clamps or ignores bad values; this API
    answers 400 keyed on the parameter instead, so a client learns of its mistake.
    """

    limit_query_param = "limit"
    offset_query_param = "skip"
    default_limit = 10
    max_limit = 100

    # Built once: a form field costs more to build than to use, and cleaning is stateless.
    limit_field = StrictIntegerField(min_value=1, max_value=max_limit, required=False)
    offset_field = StrictIntegerField(min_value=0, max_value=MAX_SKIP, required=False)

    @property
    def query_params(self) -> tuple[str, str]:
        """The query parameters this paginator reads."""
        return (self.offset_query_param, self.limit_query_param)

    def get_limit(self, request):
        return integer_query_param(
            request.query_params, self.limit_query_param, self.default_limit, self.limit_field
        )

    def get_offset(self, request):
        return integer_query_param(
            request.query_params, self.offset_query_param, 0, self.offset_field
        )

    def get_schema_operation_parameters(self, view):
        """DRF's parameters with the bounds this class enforces, so clients (and the
        contract fuzzer) know that `limit=128` or `skip=-1` is a 400."""
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": 10},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_SKIP, "default": 0},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters

    # Past this offset, pages are fetched with a "deferred join".
    DEFERRED_JOIN_FROM = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True  # the browsable API's page links
        if self.count == 0 or self.offset >= self.count:
            return []
        window = slice(self.offset, self.offset + self.limit)
        if self.offset < self.DEFERRED_JOIN_FROM:
            return list(queryset[window])
        # OFFSET over full rows fetches (and throws away) every skipped row from the
        # table; skipping over ids alone walks only the index (an index-only scan),
        # then the page's own rows are fetched by primary key. Same rows, same order.
        page_ids = queryset.values_list("pk", flat=True)[window]
        return list(queryset.filter(pk__in=Subquery(page_ids)))
