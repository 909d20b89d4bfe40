"""Query-string filtering shared by the apps' viewsets."""


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
