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

    `cached_pages` maps an action to (family, key name, paginated); the family may be a
    function of the view, for a single object cached under its own generation. Only
    actions whose answer is the same for everyone past `has_permission` belong here: a
    hit skips the handler, and with it `get_object`'s object-level check.
    """

    cached_pages: dict = {}

    def _page_to_cache(self, request):
        """(family, key) of this request's cacheable page, or None; computed once.

        Authentication asks first (to fetch the page in its round trip), the handler
        again; the key hashes the whole URL, so the answer is kept on the request.
        """
        if not hasattr(request, "_page_to_cache"):
            request._page_to_cache = self._find_page_to_cache(request)
        return request._page_to_cache

    def _find_page_to_cache(self, request):
        spec = self.cached_pages.get(self.action)
        if spec is None or request.method != "GET":
            return None
        if not settings.CACHE_PAGES or request.accepted_media_type != JSONRenderer.media_type:
            return None
        family, name, paginated = spec
        if callable(family):
            family = family(self)
        return family, api_cache.page_key(request, name, paginated=paginated)

    def cached_response(self, produce):
        request = self.request
        page_spec = self._page_to_cache(request)
        if page_spec is None:
            return produce()
        family, key = page_spec
        page, generation = api_cache.lookup_page(family, key, request)
        if page is not None:
            return page_response(request, page, "HIT")
        response = produce()
        if response.status_code != 200:
            return response
        page = api_cache.CachedPage.of(JSONRenderer().render(response.data))
        if generation is not None:
            api_cache.store_page(key, generation, page)
        return page_response(request, page, "MISS")


def cache_reads_of(view, request, user_id):
    """What a signed-in request to `view` will read from and count in the cache.

    ((family, key) pairs, (counter key, ttl) pairs): its cached page, if any, and the
    counters of its throttles. Authentication fetches them with the user in one round
    trip (config.cache.fetch_batch); the page lookup and the throttles then find them.
    """
    if view is None:
        return [], []
    page = view._page_to_cache(request) if isinstance(view, CachedResponseMixin) else None
    counters = [
        counter
        for throttle in view.get_throttles()
        if (counter := getattr(throttle, "counter_for_user", lambda _user_id: None)(user_id))
    ]
    return ([page] if page else []), counters
