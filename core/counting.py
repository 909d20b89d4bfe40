"""Exact counts of whole tables without COUNT(*): read from trigger-kept counters."""

from django.db import connection, models

from core.models import Counter


class CountedQuerySet(models.QuerySet):
    """A queryset whose `count()` reads a `Counter` while it selects what it counts.

    `counted_as(name)` declares that this queryset's rows are exactly what the counter
    `name` counts. Any later filter drops the declaration (the count is then computed
    as usual), and so do slicing, DISTINCT, GROUP BY and set operations. A missing
    counter row (deleted by hand; `manage.py recount_counters` recreates it) also falls
    back to COUNT(*), so the answer is exact either way.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counter_name = None

    def counted_as(self, name: str):
        clone = self._chain()
        clone._counter_name = name
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._counter_name = self._counter_name
        return clone

    def _filter_or_exclude(self, negate, args, kwargs):
        clone = super()._filter_or_exclude(negate, args, kwargs)
        clone._counter_name = None
        return clone

    def complex_filter(self, filter_obj):
        clone = super().complex_filter(filter_obj)
        clone._counter_name = None
        return clone

    def _counter_applies(self) -> bool:
        query = self.query
        return bool(
            self._counter_name
            and self._result_cache is None
            and not query.low_mark
            and query.high_mark is None
            and not query.distinct
            and query.group_by is None
            and not query.combinator
            and not query.is_empty()
        )

    def count(self):
        if self._counter_applies():
            try:
                return Counter.value_of(self._counter_name)
            except Counter.DoesNotExist:
                pass
        return super().count()


def lock_counters() -> None:
    """Take every counter row, as each counting trigger does first (posts/migrations/0003).

    A write that will fire those triggers after locking rows of its own (deleting a
    user locks the user, then its cascade counts) calls this first, so every writer
    takes counters before user rows and none waits for the other in a cycle. PostgreSQL
    only; SQLite has one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT lock_counters()")
