"""Viewset behaviour shared by the apps: serving read-heavy responses from the cache."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags
from rest_framework.renderers import JSONRenderer

from config import cache as api_cache


def _client_has(request, etag: str) -> bool:
    candidates = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in candidates or etag in candidates


def page_response(request, page: api_cache.CachedPage, outcome: str) -> HttpResponse:
    """The response for a cached page: 304 when the client holds it, else its bytes."""
    if _client_has(request, page.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(page.body, content_type=JSONRenderer.media_type)
    response["ETag"] = page.etag
    response["X-Cache"] = outcome
    # Browsers and proxies may keep the page but must revalidate (cheaply, by ETag).
    response["Cache-Control"] = "private, no-cache"
    return response


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


class CachedResponseMixin:
    """Serve a GET from the cache when its page is current, else build and store it.

    Runs inside the view handler, after DRF's authentication, permission and throttle
    checks, so a hit is subject to exactly the same rules as a miss. Only plain JSON is
    cached (the browsable API and `; indent=` variants are built each time).
    """

    def cached_response(self, family: str, name: str, produce, *, paginated: bool = True):
        request = self.request
        if not settings.CACHE_PAGES or request.accepted_media_type != JSONRenderer.media_type:
            return produce()
        key = api_cache.page_key(request, name, paginated=paginated)
        page, generation = api_cache.lookup_page(family, key)
        if page is not None:
            return page_response(request, page, "HIT")
        response = produce()
        if response.status_code != 200:
            return response
        page = api_cache.CachedPage.of(JSONRenderer().render(response.data))
        if generation is not None:
            api_cache.store_page(key, generation, page)
        return page_response(request, page, "MISS")
