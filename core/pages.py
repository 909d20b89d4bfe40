"""Cached pages: one rendered JSON response per key, served while its family is current.

A page is stored under the generation its reader fetched *before* querying (see
core.cache), so a reader racing a writer can never plant an old page where later
readers accept it.
"""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags
from rest_framework.renderers import JSONRenderer

from core import cache as api_cache


@dataclass(frozen=True)
class CachedPage:
    """The bytes of one rendered JSON response and their strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> "CachedPage":
        return cls(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def page_key(request, name: str, paginated: bool = True) -> str:
    """The key of one page: visibly `<name>:<skip>:<limit>`, then a digest of the rest.

    The bytes depend on scheme, host, path and every query parameter (the absolute
    `next`/`previous` links carry them all), so all of those go into the digest. Nothing
    about the caller does, except the audience a view adds to `name`: cached pages are
    identical for everyone of that audience.
    """
    params = request.GET
    query = urlencode(sorted(params.lists()), doseq=True)
    where = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:24]
    if not paginated:
        return f"{name}:{digest}"
    skip, limit = params.get("skip", "0")[:24], params.get("limit", "10")[:24]
    return f"{name}:{skip}:{limit}:{digest}"


def lookup_page(family: str, key: str, request=None) -> tuple[CachedPage | None, str | None]:
    """The page under `key` if still current, and the generation to store a miss under."""
    payload, generation = api_cache.read_current(family, key, request)
    page = CachedPage(body=payload[0], etag=payload[1]) if payload is not None else None
    return page, generation


def store_page(key: str, generation: str, page: CachedPage) -> None:
    """Keep a page under the generation read before its rows were queried."""
    api_cache.store_current(key, generation, (page.body, page.etag), settings.CACHE_TTL)


def _client_has(request, etag: str) -> bool:
    candidates = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in candidates or etag in candidates


def page_response(request, page: CachedPage, outcome: str) -> HttpResponse:
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


def _canonical_host(request) -> bool:
    """Whether the Host header is spelled as the server is reached: lower case, and no
    port but the request's own or the scheme's default.

    The page's links carry the host, so it is part of the key; ALLOWED_HOSTS checks the
    name only, and `LOCALHOST`, `localhost:1`, `localhost:2`, … must not each store a page.
    """
    host = request.get_host()
    if host != host.lower():
        return False
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    return not name or port in ("", request.get_port(), "80", "443")


def _past_the_last_page(request, response) -> bool:
    """An empty page past the end: any skip up to 2**63 is valid, and none is stored."""
    data = response.data
    return (
        isinstance(data, dict)
        and data.get("results") == []
        and request.query_params.get("skip", "0") != "0"
    )


class CachedResponseMixin:
    """Serve a GET from the cache when its page is current, else build and store it.

    Runs inside the view handler, after DRF's authentication, permission and throttle
    checks, so a hit is subject to exactly the same rules as a miss. Only plain JSON is
    cached (the browsable API and `; indent=` variants are built each time).

    `cached_pages` maps an action to (family, key name, paginated[, audience]); the
    family may be a function of the view, for a single object cached under its own
    generation. `audience`, a function of the view, names the variant of the page this
    caller gets (users: "staff" pages show emails, "member" pages do not) and becomes
    part of the key: variants are shared by everyone of one audience, never one per
    caller. Only actions whose answer is the same for everyone of an audience past
    `has_permission` belong here: a hit skips the handler, and with it `get_object`'s
    object-level check.

    A page over `CACHE_PAGE_MAX_BYTES` is served (as a MISS) but never stored: the cache
    is shared, and one caller's oversized pages must not evict everyone's.
    """

    cached_pages: dict = {}

    def check_throttles(self, request):
        """Fetch this request's page and count its throttles in one Redis round trip.

        Measured: a cached page costs one round trip instead of two (see
        docs/PERFORMANCE.md); `lookup_page` and the throttles then find their values on
        the request and apply exactly their usual rules.
        """
        page = self._page_to_cache(request)
        counters = [
            counter
            for throttle in self.get_throttles()
            if (counter := throttle.counter_for(request, self)) is not None
        ]
        if page is not None or counters:
            api_cache.fetch_batch(
                request._request,
                families_and_keys=[page] if page is not None else [],
                counters=counters,
            )
        super().check_throttles(request)

    def _page_to_cache(self, request):
        """(family, key) of this request's cacheable page, or None; computed once."""
        if not hasattr(request, "_page_to_cache"):
            request._page_to_cache = self._find_page_to_cache(request)
        return request._page_to_cache

    def _find_page_to_cache(self, request):
        spec = self.cached_pages.get(self.action)
        if spec is None or request.method != "GET":
            return None
        if not settings.CACHE_PAGES or request.accepted_media_type != JSONRenderer.media_type:
            return None
        if not _canonical_host(request):
            return None
        family, name, paginated, *audience = spec
        if callable(family):
            family = family(self)
        if audience:
            name = f"{name}:{audience[0](self)}"
        return family, page_key(request, name, paginated=paginated)

    def cached_response(self, produce):
        request = self.request
        page_spec = self._page_to_cache(request)
        if page_spec is None:
            return produce()
        family, key = page_spec
        page, generation = lookup_page(family, key, request._request)
        if page is not None:
            return page_response(request, page, "HIT")
        response = produce()
        if response.status_code != 200:
            return response
        page = CachedPage.of(JSONRenderer().render(response.data))
        keep = len(page.body) <= settings.CACHE_PAGE_MAX_BYTES
        if generation is not None and keep and not _past_the_last_page(request, response):
            store_page(key, generation, page)
        return page_response(request, page, "MISS")
